import Core
import Foundation
import XCTest
import Logging
@_exported import TrackhouseTestSupport
@testable import Ingest

let demoHash = "a4a8da5b-b419-4656-98e9-4a42e9044891"

func makeDataDirectory(_ name: String = #function) -> String {
    let directory = makeTemporaryDirectory(name)
    let project = Project(id: "acme-seo", name: "Acme SEO", hash: demoHash,
                          extraFields: [.init(key: "total_posts", type: .int)])
    try! FileIO.writeFileAtomically(directory + "/projects.json", ProjectRegistry(projects: [project]).serialized())
    return directory
}

/// `trackhouse serve` on a fresh data folder (the demo project) and a free port, once healthy.
/// Skips the test when the binary is not built. The caller terminates the server.
func startServerOnFreshData(extraArguments: [String] = [], name: String = #function,
                            file: StaticString = #filePath, line: UInt = #line) throws -> (server: ServerProcess, data: String, port: Int) {
    guard let binary = trackhouseBinary() else { throw XCTSkip("trackhouse binary not built; set TRACKHOUSE_BIN") }
    let data = makeDataDirectory(name)
    let port = freePort()
    let server = try ServerProcess(binary: binary, dataDirectory: data, port: port, extraArguments: extraArguments)
    XCTAssertTrue(server.waitUntilHealthy(), "server did not become healthy", file: file, line: line)
    return (server, data, port)
}

/// A realistic client 2.0.4 track body (~2 KB), form-encoded as PHP's http_build_query does.
func sdkTrackBody(marker: String, hash: String = demoHash) -> [UInt8] {
    var pairs: [(String, String)] = [
        ("url", "https://shop-\(marker).example.com"), ("site", "Shop \(marker)"), ("admin_email", "owner@example.com"),
        ("first_name", "Jane"), ("last_name", "Doe"), ("hash", hash),
        ("server[software]", "Apache/2.4.41 (Ubuntu)"), ("server[php_version]", "8.1.27"), ("server[mysql_version]", "10.6.12"),
        ("server[php_max_upload_size]", "512 MB"), ("server[php_default_timezone]", "UTC"), ("server[php_soap]", "Yes"),
        ("server[php_fsockopen]", "Yes"), ("server[php_curl]", "Yes"), ("wp[memory_limit]", "256M"), ("wp[debug_mode]", "No"),
        ("wp[locale]", "en_US"), ("wp[version]", "6.4.2"), ("wp[multisite]", "No"), ("wp[theme_slug]", "storefront"),
        ("wp[theme_name]", "Storefront"), ("wp[theme_version]", "4.5.0"), ("wp[theme_uri]", "https://woocommerce.com/storefront/"),
        ("wp[theme_author]", "Automattic"), ("users[total]", "10"), ("users[administrator]", "1"), ("users[customer]", "9"),
        ("active_plugins", "14"), ("inactive_plugins", "3"), ("ip_address", "203.0.113.7"), ("project_version", "1.7.2"),
        ("tracking_skipped", "0"), ("is_local", "0"), ("extra[total_posts]", "42"), ("client", "2.0.4"),
    ]
    for plugin in ["woocommerce", "akismet", "contact-form-7", "wordpress-seo", "elementor", "jetpack", "wpforms-lite", "classic-editor"] {
        pairs.append(("plugins[\(plugin)][name]", plugin.capitalized))
        pairs.append(("plugins[\(plugin)][version]", "8.5.1"))
    }
    return Array(pairs.map { "\(formEncode($0.0))=\(formEncode($0.1))" }.joined(separator: "&").utf8)
}

func formEncode(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
            out.append(Character(UnicodeScalar(byte)))
        case UInt8(ascii: " "): out.append("+")
        default: out += String(format: "%%%02X", byte)
        }
    }
    return out
}

/// Whether a server on `port` answers `GET /healthz` with 200 within `timeoutSeconds`.
func serverIsHealthy(port: Int, timeoutSeconds: Double = 20) -> Bool {
    let deadline = Date().addingTimeInterval(timeoutSeconds)
    while Date() < deadline {
        if let connection = RawHTTPConnection(port: port, timeoutSeconds: 2),
           connection.send(RawHTTPConnection.request(method: "GET", path: "/healthz", body: [])),
           let response = connection.readResponse(), response.status == 200 {
            return true
        }
        usleep(50_000)
    }
    return false
}

/// Runs the built `trackhouse` binary to completion (skips the test when it is not built);
/// `environment` replaces the inherited one when given.
func runTrackhouse(_ arguments: [String], environment: [String: String]? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    guard let binary = trackhouseBinary() else { throw XCTSkip("the trackhouse binary is not built; set TRACKHOUSE_BIN") }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

/// A `trackhouse serve` child process.
final class ServerProcess {
    let process = Process()
    let port: Int

    init(binary: String, dataDirectory: String, port: Int, extraArguments: [String] = []) throws {
        self.port = port
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--data", dataDirectory, "--port", String(port), "--writer-id", "crash", "--log-level", "error"] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func waitUntilHealthy(timeoutSeconds: Double = 20) -> Bool {
        serverIsHealthy(port: port, timeoutSeconds: timeoutSeconds)
    }

    func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func terminate() {
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }
}
