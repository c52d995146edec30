import Core
import Foundation
import Logging
import Metrics

/// One SDK request as the HTTP layer hands it over: no HTTP types, so tests and other front
/// ends can drive ingest directly.
public struct IngestRequest: Sendable {
    public var route: Envelope.Route
    public var contentType: String?
    public var contentEncoding: String?
    public var userAgent: String?
    public var forwardedFor: String?
    public var peerAddress: String?
    public var body: [UInt8]

    public init(route: Envelope.Route, contentType: String?, contentEncoding: String? = nil, userAgent: String? = nil,
                forwardedFor: String? = nil, peerAddress: String? = nil, body: [UInt8]) {
        self.route = route
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.userAgent = userAgent
        self.forwardedFor = forwardedFor
        self.peerAddress = peerAddress
        self.body = body
    }
}

/// The answer to the SDK (CONTRACT §1): `200` once durable, else a status with a JSON error.
public enum IngestOutcome: Equatable, Sendable {
    case accepted(id: String)
    case refused(IngestRefusal)
}

public struct IngestRefusal: Error, Equatable, Sendable {
    public var status: Int
    public var code: String
    public var message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public static func badRequest(_ message: String) -> IngestRefusal { .init(status: 400, code: "bad_request", message: message) }
    public static func tooLarge(_ message: String) -> IngestRefusal { .init(status: 413, code: "payload_too_large", message: message) }

    /// `{"error":"<code>","message":"..."}`
    public var jsonBody: [UInt8] {
        JSONWriter.serialize(.object(JSONObject([("error", .string(code)), ("message", .string(message))])))
    }
}

/// Validates SDK requests and appends them to the raw log.
public final class IngestService: Sendable {
    public struct Options: Sendable {
        public var bodyBytesMax = 1 << 20
        public var formKeysMax = FormParser.keysMaxDefault
        public var depthMax = JSONParser.defaultDepthMax
        public var trustedProxies = TrustedProxies()
        /// Requests per second per client address; nil disables rate limiting.
        public var rateLimitPerSecond: Double? = nil
        public var rateLimitBurst: Double = 60
        /// What the envelope keeps of the client address (`IPMode`; both ingest paths call `prepare`).
        public var ipMode: IPMode = .full
        public init() {}
    }

    public let registry: RegistryStore
    public let writer: RawLogWriter
    public let options: Options
    let logger: Logger
    /// Repeated write failures (a full disk refuses every request) are logged once per 10 s.
    let failureLog = LogThrottle(intervalSeconds: 10)
    let rateLimiter: RateLimiter?

    public init(registry: RegistryStore, writer: RawLogWriter, options: Options, logger: Logger) {
        self.registry = registry
        self.writer = writer
        self.options = options
        self.logger = logger
        self.rateLimiter = options.rateLimitPerSecond.map { RateLimiter(ratePerSecond: $0, burst: options.rateLimitBurst) }
    }

    /// An accepted, decoded request waiting for its line to be durable.
    public struct PreparedAppend: Sendable {
        public let id: String
        public let route: Envelope.Route
        public let receivedAtMicros: Int64
        public let line: [UInt8]
    }

    /// The synchronous part of a request: rate limit, decode, project lookup. Either the
    /// answer (a refusal) or the line to append.
    public enum Step: Sendable {
        case answered(IngestOutcome)
        case append(PreparedAppend)
    }

    public func prepare(_ request: IngestRequest) -> Step {
        let clientAddress = options.trustedProxies.clientAddress(peer: request.peerAddress, forwardedFor: request.forwardedFor)
        if let rateLimiter, !rateLimiter.allow(clientAddress ?? "unknown") {
            return .answered(.refused(.init(status: 429, code: "rate_limited",
                                            message: "too many requests from this address; retry later")))
        }
        if writer.isStopping {
            return .answered(.refused(.init(status: 503, code: "unavailable", message: "the server is shutting down; retry later")))
        }
        // The id and time come first so the envelope's head can frame the payload as it is
        // transcoded: the line is written once, not assembled from a payload copy.
        let now = UTCTime.nowMicros()
        let id = EventID.make(micros: now)
        let linePrefix = Envelope.linePrefix(id: id, receivedAtMicros: now, route: request.route, ip: options.ipMode.apply(clientAddress),
                                             userAgent: request.userAgent)
        let decoded: DecodedPayload
        switch decodePayload(request, linePrefix: linePrefix) {
        case .success(let payload): decoded = payload
        case .failure(let refusal): return .answered(.refused(refusal))
        }
        guard let hash = decoded.hash.map(IngestText.trimmingWhitespace), !hash.isEmpty else {
            return .answered(.refused(.init(status: 404, code: "unknown_project", message: "the body has no \"hash\": it names the project")))
        }
        guard registry.registry.project(hash: hash) != nil else {
            return .answered(.refused(.init(status: 404, code: "unknown_project", message: "no project has this hash")))
        }
        return .append(PreparedAppend(id: id, route: request.route, receivedAtMicros: now, line: decoded.line))
    }

    /// The answer once the append finished: `200` with the id, or a `503` naming why.
    public func outcome(of prepared: PreparedAppend, failure: RawLogWriter.AppendError?) -> IngestOutcome {
        guard let failure else { return .accepted(id: prepared.id) }
        switch failure {
        case .diskFull:
            let (log, repeats) = failureLog.admit("disk_full")
            if log {
                logger.error("raw write failed: disk full", metadata: ["ingest.route": "\(prepared.route.rawValue)", "repeats": "\(repeats)"])
            }
            return .refused(.init(status: 503, code: "disk_full", message: "the server's disk is full; retry later"))
        case .shuttingDown:
            return .refused(.init(status: 503, code: "unavailable", message: "the server is shutting down; retry later"))
        case .io(let message):
            let (log, repeats) = failureLog.admit("io:" + message)
            if log { logger.error("raw write failed", metadata: ["error": "\(message)", "repeats": "\(repeats)"]) }
            return .refused(.init(status: 503, code: "unavailable", message: "the server could not store the request; retry later"))
        }
    }

    /// Handles one request on the caller's task: returns once the line is durable.
    public func handle(_ request: IngestRequest) async -> IngestOutcome {
        switch prepare(request) {
        case .answered(let outcome):
            return outcome
        case .append(let prepared):
            do {
                try await writer.append(line: prepared.line, route: prepared.route, receivedAtMicros: prepared.receivedAtMicros)
                return outcome(of: prepared, failure: nil)
            } catch let error as RawLogWriter.AppendError {
                return outcome(of: prepared, failure: error)
            } catch {
                return .refused(.init(status: 503, code: "unavailable", message: "the server could not store the request; retry later"))
            }
        }
    }

    /// Handles one request without a task: `completion` gets the answer, at once for a
    /// refusal (on the caller's thread), else on a raw lane's thread once the line is durable.
    public func handle(_ request: IngestRequest, completion: @escaping @Sendable (IngestOutcome) -> Void) {
        switch prepare(request) {
        case .answered(let outcome):
            completion(outcome)
        case .append(let prepared):
            writer.append(line: prepared.line, route: prepared.route, receivedAtMicros: prepared.receivedAtMicros) { failure in
                completion(self.outcome(of: prepared, failure: failure))
            }
        }
    }

    enum ContentKind { case form, json }

    /// A validated payload, framed: `linePrefix` + the object as compact JSON (exactly what
    /// `JSONWriter` writes for the parsed object) + `Envelope.lineSuffix`; and its `hash` as
    /// scalar text (not yet trimmed).
    struct DecodedPayload {
        var line: [UInt8]
        var hash: String?

        init(line: [UInt8], hash: String?) {
            self.line = line
            self.hash = hash
        }

        init(linePrefix: [UInt8], object: JSONObject) {
            var line = linePrefix
            JSONWriter.append(.object(object), to: &line)
            line.append(contentsOf: Envelope.lineSuffix)
            self.init(line: line, hash: object["hash"]?.scalarText)
        }
    }

    func decodePayload(_ request: IngestRequest, linePrefix: [UInt8]) -> Result<DecodedPayload, IngestRefusal> {
        if request.body.count > options.bodyBytesMax {
            return .failure(.tooLarge("the body is larger than \(options.bodyBytesMax) bytes"))
        }
        var body = request.body
        let encoding = request.contentEncoding.map { $0.isEmpty ? "" : $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch encoding {
        case "", "identity": break
        case "gzip", "x-gzip", "deflate":
            do { body = try Gzip.inflate(body, outputBytesMax: options.bodyBytesMax) } catch let error as GzipError {
                if error.code == .tooLarge {
                    return .failure(.tooLarge("the body inflates to more than \(options.bodyBytesMax) bytes"))
                }
                return .failure(.badRequest("the \(encoding) body could not be inflated: \(error.message)"))
            } catch {
                return .failure(.badRequest("the \(encoding) body could not be inflated"))
            }
        default:
            return .failure(.init(status: 415, code: "unsupported_media_type",
                                  message: "Content-Encoding \"\(encoding)\" is not supported; send identity or gzip"))
        }
        let kind: ContentKind
        let mediaType = request.contentType.map { mediaTypeOf($0) } ?? ""
        switch mediaType {
        case "application/x-www-form-urlencoded": kind = .form
        case "application/json", "text/json": kind = .json
        case "":
            // No Content-Type: decide from the first non-space byte, as the body can only be one of the two.
            let first = body.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
            kind = first == UInt8(ascii: "{") ? .json : .form
        default:
            if mediaType.hasSuffix("+json") { kind = .json } else {
                return .failure(.init(status: 415, code: "unsupported_media_type",
                                      message: "Content-Type \"\(mediaType)\" is not supported; send application/x-www-form-urlencoded or application/json"))
            }
        }
        switch kind {
        case .form:
            // Hot path: straight to JSON bytes; FormParser decides whatever the transcoder declines.
            let fast = body.withUnsafeBufferPointer {
                FormTranscoder.transcode($0, keysMax: options.formKeysMax, depthMax: options.depthMax,
                                         prefix: linePrefix, suffix: Envelope.lineSuffix)
            }
            if let fast { return .success(DecodedPayload(line: fast.json, hash: fast.hash)) }
            do {
                let object = try FormParser.parse(body, keysMax: options.formKeysMax, depthMax: options.depthMax)
                return .success(DecodedPayload(linePrefix: linePrefix, object: object))
            } catch let failure as FormParser.Failure {
                return .failure(.badRequest(failure.message))
            } catch {
                return .failure(.badRequest("the form body could not be parsed"))
            }
        case .json:
            do {
                let value = try JSONParser.parse(body, depthMax: options.depthMax)
                guard case .object(let object) = value else {
                    return .failure(.badRequest("the JSON body must be an object"))
                }
                return .success(DecodedPayload(linePrefix: linePrefix, object: object))
            } catch let failure as JSONParseError {
                return .failure(.badRequest("the JSON body is invalid: \(failure.description)"))
            } catch {
                return .failure(.badRequest("the JSON body is invalid"))
            }
        }
    }

    func mediaTypeOf(_ contentType: String) -> String {
        IngestText.mediaType(contentType)
    }
}
