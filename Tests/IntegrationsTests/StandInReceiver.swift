import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A local HTTP peer standing in for a webhook receiver or a mailing-list API: records every
/// request, answers as the provider's documented endpoints do (`respond`), and on command
/// answers with a queued status (429, 500, …), late (`delaySeconds`) or not at all (`down`:
/// the connection is closed, a network error for the client).
final class StandInReceiver: Sendable {
    struct Request: Sendable {
        var method: String
        var path: String
        var headers: [(String, String)]
        var body: [UInt8]
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body)) }
        var bodyText: String { String(decoding: body, as: UTF8.self) }
    }
    struct Answer: Sendable {
        var status: Int
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        var delaySeconds: Double = 0
    }
    struct State {
        var requests: [Request] = []
        var queued: [Answer] = []
        var down = false
        /// Provider-side memory (members, subscribers, contacts) by key.
        var store: [String: String] = [:]
    }
    let state = Mutex(State())
    let respond: @Sendable (Request, inout State) -> Answer
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let channelBox = Mutex<Channel?>(nil)
    private let portBox = Mutex(0)
    var port: Int { portBox.withLock { $0 } }
    var url: String { "http://127.0.0.1:\(port)" }

    init(port: Int = 0, respond: @escaping @Sendable (Request, inout State) -> Answer) throws {
        self.respond = respond
        try start(port: port)
    }

    func start(port: Int) throws {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(receiver: self))
                }
            }
        let channel = try bootstrap.bind(host: "127.0.0.1", port: port).wait()
        channelBox.withLock { $0 = channel }
        portBox.withLock { $0 = channel.localAddress!.port! }
    }

    func stop() {
        try? channelBox.withLock { $0 }?.close().wait()
    }

    deinit {
        try? channelBox.withLock { $0 }?.close().wait()
        try? group.syncShutdownGracefully()
    }

    var requests: [Request] { state.withLock { $0.requests } }
    func queue(_ answers: Answer...) { state.withLock { $0.queued += answers } }
    func setDown(_ down: Bool) { state.withLock { $0.down = down } }

    func handle(_ request: Request) -> Answer? {
        state.withLock { state in
            if state.down { return nil }
            state.requests.append(request)
            if !state.queued.isEmpty { return state.queued.removeFirst() }
            return respond(request, &state)
        }
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let receiver: StandInReceiver
        var head: HTTPRequestHead?
        var body: [UInt8] = []
        init(receiver: StandInReceiver) { self.receiver = receiver }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = []
            case .body(var buffer):
                body += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .end:
                guard let head else { return }
                let request = Request(method: head.method.rawValue, path: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)
                guard let answer = receiver.handle(request) else {
                    context.close(promise: nil)
                    return
                }
                let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let send = {
                    let (handler, context) = loopBound.value
                    var headers = HTTPHeaders(answer.headers)
                    headers.replaceOrAdd(name: "Content-Length", value: String(answer.body.count))
                    context.write(handler.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .init(statusCode: answer.status), headers: headers))), promise: nil)
                    context.write(handler.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: answer.body)))), promise: nil)
                    context.writeAndFlush(handler.wrapOutboundOut(.end(nil)), promise: nil)
                }
                if answer.delaySeconds > 0 {
                    context.eventLoop.scheduleTask(in: .milliseconds(Int64(answer.delaySeconds * 1000))) { send() }
                } else {
                    send()
                }
            }
        }
    }
}

/// The providers' documented endpoints, as far as Trackhouse uses them.
enum Providers {
    static func json(_ status: Int, _ object: Any) -> StandInReceiver.Answer {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return .init(status: status, headers: [("Content-Type", "application/json")], body: Array(data))
    }

    /// A webhook receiver that verifies every signature (401 when wrong) and answers 200.
    static func webhook(secret: String) -> @Sendable (StandInReceiver.Request, inout StandInReceiver.State) -> StandInReceiver.Answer {
        { request, state in
            guard request.method == "POST", request.header("Content-Type") == "application/json",
                  request.header("Trackhouse-Delivery") != nil, let signature = request.header("Trackhouse-Signature"),
                  verify(signature: signature, secret: secret, body: request.body) else {
                state.store["bad_signatures", default: "0"] = String(Int(state.store["bad_signatures"] ?? "0")! + 1)
                return json(401, ["error": "bad signature"])
            }
            return json(200, ["ok": true])
        }
    }

    static func verify(signature: String, secret: String, body: [UInt8]) -> Bool {
        var timestamp: String?
        var v1: String?
        for part in signature.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { return false }
            if pair[0] == "t" { timestamp = pair[1] }
            if pair[0] == "v1" { v1 = pair[1] }
        }
        guard let timestamp, let v1, let seconds = Int64(timestamp), abs(seconds - Int64(Date().timeIntervalSince1970)) < 300 else { return false }
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(timestamp).".utf8) + body, using: SymmetricKey(data: Array(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined() == v1
    }

    /// Mailchimp Marketing API v3: members by md5 of the lowercased email, tags on members.
    static func mailchimp(apiKey: String) -> @Sendable (StandInReceiver.Request, inout StandInReceiver.State) -> StandInReceiver.Answer {
        { request, state in
            let expected = "Basic " + Data("trackhouse:\(apiKey)".utf8).base64EncodedString()
            guard let auth = request.header("Authorization"), auth.hasPrefix("Basic "),
                  let decoded = Data(base64Encoded: String(auth.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) }),
                  decoded.hasSuffix(":" + apiKey) || auth == expected else { return json(401, ["title": "API Key Invalid"]) }
            let parts = request.path.split(separator: "/").map(String.init)
            // /3.0/lists/{list}/members/{hash}[/tags]
            guard parts.count >= 5, parts[0] == "3.0", parts[1] == "lists", parts[3] == "members" else { return json(404, ["title": "Resource Not Found"]) }
            let hash = parts[4]
            if parts.count == 5 && request.method == "PUT" {
                guard let body = request.json as? [String: Any], let email = body["email_address"] as? String,
                      md5(email.lowercased()) == hash, body["status_if_new"] as? String == "subscribed" else {
                    return json(400, ["title": "Invalid Resource"])
                }
                state.store["member:" + hash] = email
                let merge = body["merge_fields"] as? [String: Any] ?? [:]
                state.store["name:" + hash] = "\(merge["FNAME"] ?? "")|\(merge["LNAME"] ?? "")"
                return json(200, ["id": hash, "email_address": email, "status": "subscribed"])
            }
            if parts.count == 6 && parts[5] == "tags" && request.method == "POST" {
                guard state.store["member:" + hash] != nil else { return json(404, ["title": "Resource Not Found"]) }
                guard let body = request.json as? [String: Any], let tags = body["tags"] as? [[String: Any]] else {
                    return json(400, ["title": "Invalid Resource"])
                }
                for tag in tags { state.store["tag:\(hash):\(tag["name"] as? String ?? "")"] = tag["status"] as? String }
                return .init(status: 204)
            }
            return json(405, ["title": "Method Not Allowed"])
        }
    }

    static func md5(_ text: String) -> String {
        Insecure.MD5.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// MailerLite (connect.mailerlite.com/api): subscribers upserted by email, groups by id.
    static func mailerlite(apiKey: String) -> @Sendable (StandInReceiver.Request, inout StandInReceiver.State) -> StandInReceiver.Answer {
        { request, state in
            guard request.header("Authorization") == "Bearer " + apiKey else { return json(401, ["message": "Unauthenticated."]) }
            let parts = request.path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
            guard parts.count >= 2, parts[0] == "api", parts[1] == "subscribers" else { return json(404, ["message": "Not found"]) }
            if parts.count == 2 && request.method == "POST" {
                guard let body = request.json as? [String: Any], let email = body["email"] as? String else {
                    return json(422, ["message": "The email field is required."])
                }
                let id = state.store["sub:" + email.lowercased()] ?? String(1000 + state.store.count)
                let existed = state.store["sub:" + email.lowercased()] != nil
                state.store["sub:" + email.lowercased()] = id
                state.store["email:" + id] = email
                for group in body["groups"] as? [String] ?? [] { state.store["group:\(id):\(group)"] = "in" }
                return json(existed ? 200 : 201, ["data": ["id": id, "email": email, "status": "active"]])
            }
            if parts.count == 3 && request.method == "GET" {
                guard let id = state.store["sub:" + parts[2].lowercased()] else { return json(404, ["message": "Not found"]) }
                return json(200, ["data": ["id": id, "email": parts[2]]])
            }
            if parts.count == 5 && parts[3] == "groups" {
                guard state.store["email:" + parts[2]] != nil else { return json(404, ["message": "Not found"]) }
                if request.method == "POST" { state.store["group:\(parts[2]):\(parts[4])"] = "in"; return json(200, ["data": ["id": parts[4]]]) }
                if request.method == "DELETE" { state.store["group:\(parts[2]):\(parts[4])"] = nil; return .init(status: 204) }
            }
            return json(405, ["message": "Method not allowed"])
        }
    }

    /// Brevo v3 contacts (`api-key` header): create/update with listIds, update with unlinkListIds.
    static func brevo(apiKey: String) -> @Sendable (StandInReceiver.Request, inout StandInReceiver.State) -> StandInReceiver.Answer {
        { request, state in
            guard request.header("api-key") == apiKey else { return json(401, ["code": "unauthorized", "message": "Key not found"]) }
            let parts = request.path.split(separator: "/").map { $0.removingPercentEncoding ?? String($0) }
            guard parts.count >= 2, parts[0] == "v3", parts[1] == "contacts" else { return json(404, ["code": "document_not_found"]) }
            if parts.count == 2 && request.method == "POST" {
                guard let body = request.json as? [String: Any], let email = body["email"] as? String else {
                    return json(400, ["code": "missing_parameter"])
                }
                let existed = state.store["contact:" + email.lowercased()] != nil
                guard !existed || body["updateEnabled"] as? Bool == true else { return json(400, ["code": "duplicate_parameter"]) }
                state.store["contact:" + email.lowercased()] = email
                for list in body["listIds"] as? [Int] ?? [] { state.store["list:\(email.lowercased()):\(list)"] = "in" }
                return existed ? .init(status: 204) : json(201, ["id": state.store.count])
            }
            if parts.count == 3 && request.method == "PUT" {
                let email = parts[2].lowercased()
                guard state.store["contact:" + email] != nil else { return json(404, ["code": "document_not_found", "message": "Contact does not exist"]) }
                let body = request.json as? [String: Any] ?? [:]
                for list in body["listIds"] as? [Int] ?? [] { state.store["list:\(email):\(list)"] = "in" }
                for list in body["unlinkListIds"] as? [Int] ?? [] { state.store["list:\(email):\(list)"] = nil }
                return .init(status: 204)
            }
            return json(405, ["code": "method_not_allowed"])
        }
    }
}
