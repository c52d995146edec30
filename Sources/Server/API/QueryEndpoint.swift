import Core
import Foundation
import Hummingbird
import Ingest
import NIOCore
import Query

extension APIRoutes {
    static let sqlBytesMax = 1 << 20

    /// `POST /api/v1/query?format=json|jsonl|csv|table` with one SELECT as the body (CONTRACT
    /// §6). A project token's SQL sees only its project: it runs over a `ProjectCatalog` of
    /// that project's units, and the engine also applies the scope below every clause. An
    /// admin may narrow to one project the same way with `project=<id>`.
    func query(_ request: Request) async throws -> Response {
        let grant = try access.grant(for: request)
        let parameters = APIParameters(request)
        let format: ResultFormat = try parameters.choice("format", default: .json)
        let scope = try Self.scope(grant, requested: parameters["project"], registry: access.registry.registry)
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.sqlBytesMax)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, code: "payload_too_large", message: "the SQL is longer than \(Self.sqlBytesMax) bytes")
        }
        guard let sql = Self.sqlText(Array(body.readableBytesView)),
              !sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw APIError(.badRequest, code: "bad_request", message: "the body must be one SQL SELECT statement in UTF-8 (or {\"sql\": \"…\"})")
        }
        let catalog: any Catalog = scope.projectID.map { ProjectCatalog(base: sqlEngine.catalog, projectID: $0) } ?? sqlEngine.catalog
        let baseOptions = sqlEngine.options
        let logger = self.logger
        let rendered: [UInt8]
        do {
            // The time limit counts from admission: a query that waited in the queue has that
            // much less to run, and one whose limit passed while it waited is not started.
            rendered = try await BlockingWork.run(pool: BlockingWork.sql, tenant: scope.projectID ?? "*admin*") { waited in
                var options = baseOptions
                if let timeoutMs = options.timeoutMs {
                    let waitedMs = Int(waited.components.seconds * 1000) + Int(waited.components.attoseconds / 1_000_000_000_000_000)
                    guard waitedMs < timeoutMs else {
                        throw QueryError(.timeout, "the query waited \(waitedMs) ms for a free worker, past its limit of \(timeoutMs) ms; try again when the server is less busy")
                    }
                    options.timeoutMs = timeoutMs - waitedMs
                }
                let engine = QueryEngine(catalog: catalog, options: options, logger: logger)
                let result = try BlockingWork.retryingOnce { try engine.execute(sql: sql, scope: scope) }
                // Rendering a large result is CPU work too: here, not on the HTTP threads.
                return Array(result.render(format).utf8)
            }
        } catch let error as QueryError {
            // `error` is the engine's stable code (`syntax_error`, `binder_error`, …).
            if !error.code.isCallerError { logger.error("SQL query failed", metadata: ["error": "\(error)"]) }
            throw APIError(error.code.isCallerError ? .badRequest : .internalServerError, code: error.code.identifier,
                           message: publicMessage(error))
        }
        return APIResponses.bytes(rendered, contentType: Self.contentType(format), for: request)
    }

    /// The body as SQL text; a JSON object `{"sql": "…"}` is accepted too, since browser code
    /// often posts JSON (no SQL statement starts with `{`).
    static func sqlText(_ body: [UInt8]) -> String? {
        guard let text = String(validating: body, as: UTF8.self) else { return nil }
        if text.drop(while: { $0.isWhitespace }).first == "{" {
            guard let object = try? JSONParser.parse(body), let sql = object["sql"]?.stringValue else { return nil }
            return sql
        }
        return text
    }

    static func contentType(_ format: ResultFormat) -> String {
        switch format {
        case .json: return "application/json; charset=utf-8"
        case .jsonl: return "application/x-ndjson; charset=utf-8"
        case .csv: return "text/csv; charset=utf-8"
        case .table: return "text/plain; charset=utf-8"
        }
    }

    /// The rows a token's SQL may see.
    static func scope(_ grant: APIGrant, requested: String?, registry: ProjectRegistry) throws -> AccessScope {
        let requested = requested.flatMap { $0.isEmpty ? nil : $0 }
        switch grant {
        case .admin:
            guard let requested else { return .all }
            guard registry.project(id: requested) != nil else {
                throw APIError(.notFound, code: "not_found", message: "no project with id \"\(requested)\"")
            }
            return .project(requested)
        case .projects(let ids):
            if let requested {
                guard ids.contains(requested) else {
                    throw APIError(.forbidden, code: "forbidden", message: "this token does not give access to project \"\(requested)\"")
                }
                return .project(requested)
            }
            guard ids.count == 1, let only = ids.first else {
                throw APIParameters.invalid("project", "this token covers several projects; name one with project=<id>")
            }
            return .project(only)
        }
    }
}
