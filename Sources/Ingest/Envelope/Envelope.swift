import Core

/// The raw partition line (CONTRACT §2): one accepted request, as received.
///
///     {"v":1,"id":"…","received_at":"2026-11-28T10:15:03.123456Z","route":"track",
///      "ip":"203.0.113.9","user_agent":"Appsero/…;","payload":{…}}
public struct Envelope: Equatable, Sendable {
    public enum Route: String, CaseIterable, Sendable {
        case track
        case deactivate
        case trackingSkipped = "tracking-skipped"

        /// The `event` column value (CONTRACT §4): route `tracking-skipped` is event `skip`.
        public var eventName: String {
            switch self {
            case .track: return "track"
            case .deactivate: return "deactivate"
            case .trackingSkipped: return "skip"
            }
        }
    }

    public static let version = 1

    public var id: String
    public var receivedAtMicros: Int64
    public var route: Route
    public var ip: String?
    public var userAgent: String?
    public var payload: JSONObject

    public init(id: String, receivedAtMicros: Int64, route: Route, ip: String?, userAgent: String?, payload: JSONObject) {
        self.id = id
        self.receivedAtMicros = receivedAtMicros
        self.route = route
        self.ip = ip
        self.userAgent = userAgent
        self.payload = payload
    }

    /// The envelope as one line, newline included.
    public func line() -> [UInt8] {
        Self.line(id: id, receivedAtMicros: receivedAtMicros, route: route, ip: ip, userAgent: userAgent,
                  payloadJSON: JSONWriter.serialize(.object(payload)))
    }

    /// The envelope line (CONTRACT §2) for a payload that is already compact JSON, e.g. from
    /// `FormTranscoder`: byte-identical to `line()` of the parsed payload.
    public static func line(id: String, receivedAtMicros: Int64, route: Envelope.Route, ip: String?,
                             userAgent: String?, payloadJSON: [UInt8]) -> [UInt8] {
        var bytes = linePrefix(id: id, receivedAtMicros: receivedAtMicros, route: route, ip: ip, userAgent: userAgent,
                               payloadBytes: payloadJSON.count)
        bytes.append(contentsOf: payloadJSON)
        bytes.append(contentsOf: lineSuffix)
        return bytes
    }

    /// The line up to and including `"payload":`; the payload's JSON and `lineSuffix` follow.
    /// `payloadBytes` only sizes the array.
    public static func linePrefix(id: String, receivedAtMicros: Int64, route: Envelope.Route, ip: String?,
                                  userAgent: String?, payloadBytes: Int = 0) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(payloadBytes + 160 + (userAgent?.utf8.count ?? 0) + (ip?.utf8.count ?? 0))
        bytes.append(contentsOf: #"{"v":1,"id":"#.utf8)
        JSONWriter.appendString(id, to: &bytes)
        bytes.append(contentsOf: #","received_at":""#.utf8)
        UTCTime.appendISO(micros: receivedAtMicros, fraction: .always, to: &bytes)
        bytes.append(contentsOf: #"","route":""#.utf8)
        bytes.append(contentsOf: route.rawValue.utf8)
        bytes.append(contentsOf: #"","ip":"#.utf8)
        if let ip { JSONWriter.appendString(ip, to: &bytes) } else { bytes.append(contentsOf: "null".utf8) }
        bytes.append(contentsOf: #","user_agent":"#.utf8)
        if let userAgent { JSONWriter.appendString(userAgent, to: &bytes) } else { bytes.append(contentsOf: "null".utf8) }
        bytes.append(contentsOf: #","payload":"#.utf8)
        return bytes
    }

    /// What closes a line after its payload.
    public static let lineSuffix: [UInt8] = Array("}\n".utf8)

    public struct DecodeError: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }

    /// Parses and validates one line (without its newline).
    public static func decode(_ line: UnsafeRawBufferPointer) throws -> Envelope {
        let value: JSONValue
        do { value = try JSONParser.parse(line, depthMax: JSONParser.defaultDepthMax + 1) } catch {
            throw DecodeError(message: "not valid JSON: \(error)")
        }
        guard case .object(let object) = value else { throw DecodeError(message: "line is not a JSON object") }
        guard case .number(let v)? = object["v"], v == "1" else { throw DecodeError(message: "\"v\" must be 1") }
        guard let id = object["id"]?.stringValue, !id.isEmpty, id.utf8.count <= 128 else {
            throw DecodeError(message: "\"id\" must be a non-empty string of at most 128 bytes")
        }
        guard let receivedText = object["received_at"]?.stringValue, let received = UTCTime.parseISO(receivedText) else {
            throw DecodeError(message: "\"received_at\" must be an ISO-8601 UTC timestamp")
        }
        guard let routeText = object["route"]?.stringValue, let route = Route(rawValue: routeText) else {
            throw DecodeError(message: "\"route\" must be track, deactivate or tracking-skipped")
        }
        guard case .object(let payload)? = object["payload"] else { throw DecodeError(message: "\"payload\" must be an object") }
        return Envelope(id: id, receivedAtMicros: received, route: route, ip: object["ip"]?.stringValue,
                        userAgent: object["user_agent"]?.stringValue, payload: payload)
    }

    public static func decode(_ line: [UInt8]) throws -> Envelope {
        try line.withUnsafeBytes { (buffer) throws -> Envelope in try decode(buffer) }
    }
}
