import Core
import Foundation
import XCTest
@testable import Query
@testable import Server

/// `Sources/Server/Resources/openapi.json` held to the OpenAPI 3.1 spec, to the router (every
/// registered route is described, nothing else is) and to the server's own lists (columns,
/// metrics, intervals, formats), so a route or column added later cannot be forgotten.
final class OpenAPIDocumentTests: XCTestCase {
    static let documentFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/Server/Resources/openapi.json").path

    static func document() throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes)) as? [String: Any])
    }

    /// `METHOD /path` of every operation the document describes.
    static func operations(_ document: [String: Any]) throws -> Set<String> {
        let paths = try XCTUnwrap(document["paths"] as? [String: [String: Any]])
        var operations = Set<String>()
        for (path, item) in paths {
            for method in item.keys where ["get", "put", "post", "delete", "options", "head", "patch", "trace"].contains(method) {
                operations.insert(method.uppercased() + " " + path)
            }
        }
        return operations
    }

    func testTheEmbeddedDocumentIsTheCheckedInFile() throws {
        let file = try Data(contentsOf: URL(fileURLWithPath: Self.documentFile))
        XCTAssertEqual(Array(file), OpenAPIDocument.bytes, "rebuild: the binary embeds an older openapi.json")
        XCTAssertEqual(try Self.document()["openapi"] as? String, "3.1.0")
    }

    func testTheDocumentIsValidOpenAPI31() throws {
        guard let python = ProcessInfo.processInfo.environment["TRACKHOUSE_PYTHON"], !python.isEmpty else {
            throw XCTSkip("set TRACKHOUSE_PYTHON to a python with openapi-spec-validator")
        }
        let result = try runPython(python, [Self.interop("openapi_check.py"), "spec", Self.documentFile])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("valid OpenAPI 3.1"), result.output)
    }

    /// Every route the router has (with `/metrics`, which `serve` adds) is in the document and
    /// every operation of the document is a route: a route added without its description, or a
    /// description of a route that is gone, fails here.
    func testEveryRegisteredRouteIsDescribedAndNothingElse() throws {
        let data = makeDataDirectory()
        let components = try buildComponents(configuration: ServerConfiguration(dataDirectory: data, writerID: "t"), logger: quietLogger)
        defer { components.writer?.shutdown() }
        let (_, table) = buildRouterAndRoutes(components: components, metricsText: { [] })
        let registered = Set(table.routes.map { $0.method + " " + $0.path })
        XCTAssertEqual(registered.count, table.routes.count, "a route is registered twice")
        let described = try Self.operations(try Self.document())
        XCTAssertEqual(registered.subtracting(described).sorted(), [],
                       "routes the router answers that Sources/Server/Resources/openapi.json does not describe")
        XCTAssertEqual(described.subtracting(registered).sorted(), [],
                       "operations in Sources/Server/Resources/openapi.json that no route answers")
        XCTAssertTrue(registered.contains("GET /api/v1/openapi.json"))
        XCTAssertTrue(registered.contains("GET /api/v1/projects/{id}/stats"))
    }

    /// The row schemas list exactly the tables' columns; every choice the server accepts is in
    /// the document's enums and nothing more.
    func testColumnsAndChoicesMatchTheServer() throws {
        let document = try Self.document()
        let components = try XCTUnwrap(document["components"] as? [String: Any])
        let schemas = try XCTUnwrap(components["schemas"] as? [String: [String: Any]])
        func properties(_ name: String) throws -> [String] {
            try XCTUnwrap(schemas[name]?["properties"] as? [String: Any]).keys.sorted()
        }
        XCTAssertEqual(try properties("Event"), TableSchema.events.columns.map(\.name).sorted())
        XCTAssertEqual(try properties("Site"), TableSchema.sites.columns.map(\.name).sorted())

        let paths = try XCTUnwrap(document["paths"] as? [String: [String: [String: Any]]])
        func enumValues(_ path: String, _ method: String, _ parameter: String) throws -> [String] {
            let operation = try XCTUnwrap(paths[path]?[method], "\(method) \(path)")
            let parameters = try XCTUnwrap(operation["parameters"] as? [[String: Any]])
            let found = try XCTUnwrap(parameters.first { $0["name"] as? String == parameter }, "\(parameter) of \(path)")
            let schema = try XCTUnwrap(found["schema"] as? [String: Any])
            // An empty value means the default: listed too, except for a required choice.
            return try XCTUnwrap(schema["enum"] as? [String]).filter { !$0.isEmpty }
        }
        let timeseries = "/api/v1/projects/{id}/timeseries"
        XCTAssertEqual(try enumValues(timeseries, "get", "metric"), TimeseriesMetric.allCases.map(\.rawValue))
        XCTAssertEqual(try enumValues(timeseries, "get", "interval"), BucketInterval.allCases.map(\.rawValue))
        // `new_sites` breaks down by `sites` columns, the others by `events` ones (a subset).
        XCTAssertEqual(try enumValues(timeseries, "get", "breakdown"), TableSchema.sites.columns.map(\.name))
        XCTAssertEqual(try enumValues("/api/v1/projects/{id}/breakdown", "get", "dim"), TableSchema.events.columns.map(\.name))
        let sites = "/api/v1/projects/{id}/sites"
        XCTAssertEqual(try enumValues(sites, "get", "status"), APIRoutes.siteStatuses)
        XCTAssertEqual(try enumValues(sites, "get", "format"), APIRoutes.SitesFormat.allCases.map(\.rawValue))
        let siteColumns = TableSchema.sites.columns.map(\.name)
        XCTAssertEqual(try enumValues(sites, "get", "sort"), siteColumns + siteColumns.map { "-" + $0 })
        XCTAssertEqual(try enumValues("/api/v1/query", "post", "format"), ResultFormat.allCases.map(\.rawValue))
    }

    static func interop(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("interop").appendingPathComponent(name).path
    }
}

/// A python (or any program) run to completion: its exit status and stdout and stderr together.
func runPython(_ program: String, _ arguments: [String], environment: [String: String] = [:],
               directory: String? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}
