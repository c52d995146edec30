import AsyncHTTPClient
import Core
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// An answer of a remote endpoint.
public struct HTTPAnswer: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// `Retry-After` as seconds from now: delta-seconds or an HTTP date (RFC 9110 §10.2.3).
    public func retryAfterSeconds(nowMicros: Int64) -> Double? {
        guard let text = header("Retry-After")?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let seconds = Double(text), seconds >= 0, seconds.isFinite { return seconds }
        guard let date = Self.httpDate(text) else { return nil }
        return max(0, date.timeIntervalSince1970 - Double(nowMicros) / 1e6)
    }

    static func httpDate(_ text: String) -> Date? {
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }

    /// The start of an error answer's body, for `last_error` (printable ASCII only, 200 bytes).
    var errorSnippet: String {
        let printable = body.prefix(200).map { $0 >= 0x20 && $0 < 0x7F ? Character(UnicodeScalar($0)) : " " }
        let text = String(printable).trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? "" : " — " + text
    }
}

/// Outbound HTTP for the kinds: AsyncHTTPClient with a connect and a whole-request timeout on
/// every call, TLS certificates verified for https (the system's trust roots), plain http
/// allowed (local receivers, tests), redirects not followed.
public final class DeliveryHTTP: Sendable {
    public struct Options: Sendable {
        public var connectTimeoutSeconds: Double = 5
        /// The whole request: connect, send, the answer's head and body.
        public var requestTimeoutSeconds: Double = 15
        public var answerBytesMax = 256 * 1024
        public init() {}
    }

    public let options: Options
    /// Made on the first request (a worker that never sends owns no client: AsyncHTTPClient
    /// requires every client it made to be shut down), dropped by `shutdown()`.
    private let clientBox = Mutex<HTTPClient?>(nil)

    public init(options: Options = Options()) {
        self.options = options
    }

    var client: HTTPClient {
        clientBox.withLock { box in
            if let client = box { return client }
            let client = Self.makeClient(options)
            box = client
            return client
        }
    }

    static func makeClient(_ options: Options) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .milliseconds(Int64(options.connectTimeoutSeconds * 1000)),
                                      read: .milliseconds(Int64(options.requestTimeoutSeconds * 1000)))
        configuration.redirectConfiguration = .disallow
        configuration.httpVersion = .http1Only
        configuration.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func shutdown() async {
        let client = clientBox.withLock { box in
            defer { box = nil }
            return box
        }
        try? await client?.shutdown()
    }

    /// Sends one request. Throws `DeliveryTransportError` for network errors and timeouts
    /// (messages name the host, never headers or secrets).
    public func send(_ method: String, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> HTTPAnswer {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.headers.replaceOrAdd(name: "User-Agent", value: "Trackhouse-Integrations/1")
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let host = URL(string: url)?.host ?? "the receiver"
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(options.requestTimeoutSeconds * 1000)))
            var collected = try await response.body.collect(upTo: options.answerBytesMax)
            let bytes = collected.readBytes(length: collected.readableBytes) ?? []
            return HTTPAnswer(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: bytes)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw DeliveryTransportError(message: "\(method) \(host): timed out after \(options.requestTimeoutSeconds) s")
        } catch {
            throw DeliveryTransportError(message: "\(method) \(host): \(Self.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        return text.count > 300 ? String(text.prefix(300)) + "…" : text
    }

    /// `send`, with network errors and timeouts as a `retry` outcome.
    public func attempt(_ what: String, _ method: String, _ url: String, headers: [(String, String)] = [],
                        body: [UInt8]? = nil) async -> Result<HTTPAnswer, DeliveryTransportError> {
        do { return .success(try await send(method, url, headers: headers, body: body)) } catch let error as DeliveryTransportError {
            return .failure(DeliveryTransportError(message: "\(what): \(error.message)"))
        } catch {
            return .failure(DeliveryTransportError(message: "\(what): \(Self.describe(error))"))
        }
    }
}

public struct DeliveryTransportError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
