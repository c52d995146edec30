import ColumnStore
import Core
import Foundation
import Hummingbird
import Synchronization

/// The server's one answer cache: rendered (and gzipped) JSON answers of the read endpoints,
/// keyed by the request URI and the warehouse version they were computed at: a dashboard's viewers ask the same URLs, and
/// rendering a year of points or a page of sites costs more than computing it from the
/// rollups. A new commit changes the version, so nothing stale is served; requests whose
/// answer depends on the clock (no `to`/`at`) are never cached.
final class ResponseCache: Sendable {
    private struct State {
        var entries: [String: (version: Int, body: [UInt8])] = [:]
        var bytesHeld = 0
    }
    private let state = Mutex(State())
    let bytesMax: Int

    init(bytesMax: Int) {
        self.bytesMax = bytesMax
    }

    func body(_ key: String, version: Int) -> [UInt8]? {
        state.withLock { state in
            guard let entry = state.entries[key], entry.version == version else { return nil }
            return entry.body
        }
    }

    func store(_ key: String, version: Int, body: [UInt8]) {
        guard body.count <= bytesMax / 8 else { return }
        state.withLock { state in
            if state.bytesHeld + body.count > bytesMax {
                state.entries.removeAll(keepingCapacity: true)
                state.bytesHeld = 0
            }
            state.bytesHeld += body.count - (state.entries[key]?.body.count ?? 0)
            state.entries[key] = (version, body)
        }
    }
}

extension APIRoutes {
    /// The version chart answers are computed at, when `request` names its instant (`to` or
    /// `at`); nil means "do not cache".
    func chartsVersion(_ request: Request, instantParameter: String) -> Int? {
        guard APIParameters(request)[instantParameter] != nil else { return nil }
        return charts.answersVersion
    }

    /// The warehouse at its newest commit; a log that cannot be read is the server's fault (500).
    func warehouseSnapshot() throws -> WarehouseSnapshot {
        do {
            return try warehouse.snapshot()
        } catch {
            logger.error("warehouse log unreadable", metadata: ["error": "\(warehouse.describe(error))"])
            throw APIError(.internalServerError, code: "query_failed",
                           message: "cannot read the warehouse commit log: " + publicMessage(error))
        }
    }

    /// `make`'s JSON, from the cache when this URI was answered at `version` already.
    func cachedJSON(_ request: Request, version: Int?, _ make: () async throws -> JSONValue) async throws -> Response {
        guard let version, responseCache.bytesMax > 0 else { return APIResponses.json(try await make(), for: request) }
        let gzip = APIResponses.acceptsGzip(request)
        let key = (gzip ? "gzip " : "plain ") + request.uri.path + "?" + (request.uri.query ?? "")
        if let body = responseCache.body(key, version: version) {
            return APIResponses.encoded(body, contentType: APIResponses.jsonType, gzipped: gzip)
        }
        let plain = JSONWriter.serialize(try await make())
        let body = gzip ? Gzip.deflate(plain) : plain
        responseCache.store(key, version: version, body: body)
        return APIResponses.encoded(body, contentType: APIResponses.jsonType, gzipped: gzip)
    }
}
