import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// Sends one message per call over a fresh SMTP connection (RFC 5321): greeting, EHLO,
/// STARTTLS (the same connection upgraded, the certificate verified unless the settings say
/// otherwise), EHLO again, AUTH PLAIN or LOGIN, MAIL FROM, RCPT TO, DATA with dot-stuffing,
/// QUIT. Every step has a timeout; a failure is an `SMTPError` naming the step and the
/// server's reply, and says whether retrying may help (`isTransient`).
///
/// One connection per message keeps the client stateless between deliveries (the outbox
/// retries whole messages); mail volume here is a few messages per project per day plus one
/// per deactivation.
public struct SMTPClient: Sendable {
    /// What a successful send saw, for the delivery record and the tests.
    public struct Receipt: Sendable, Equatable {
        /// The server's reply to the end of the message (often names its queue id).
        public var reply: SMTPReply
        public var usedTLS: Bool
        /// `PLAIN` or `LOGIN`; nil when the settings have no credentials.
        public var authMechanism: String?
    }

    public let settings: SMTPSettings
    let group: any EventLoopGroup
    let logger: Logger

    public init(settings: SMTPSettings, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.settings = settings
        self.group = group
        self.logger = logger
    }

    /// Sends `message` (the full RFC 5322 text, CRLF line endings) from `sender` to
    /// `recipients` (bare addresses, `user@example.com`).
    public func send(_ message: [UInt8], from sender: String, to recipients: [String]) async throws -> Receipt {
        try Self.checkEnvelopeAddress(sender, step: .mailFrom)
        guard !recipients.isEmpty else {
            throw SMTPError(.invalidRequest, step: .rcptTo, message: "no recipient: set \"to\" in the integration")
        }
        for recipient in recipients { try Self.checkEnvelopeAddress(recipient, step: .rcptTo) }
        if settings.security == .none, settings.credentials != nil {
            throw SMTPError(.invalidRequest, step: .auth, message: "credentials are never sent without TLS: set \"starttls\": \"required\" or remove the username")
        }
        let connection = try await SMTPConnection.open(settings: settings, group: group)
        do {
            let receipt = try await converse(connection, message: message, sender: sender, recipients: recipients)
            await connection.close()
            return receipt
        } catch {
            await connection.close()
            throw error
        }
    }

    private func converse(_ connection: SMTPConnection, message: [UInt8], sender: String, recipients: [String]) async throws -> Receipt {
        let timeouts = settings.timeouts
        let greeting = try await connection.reply(step: .greeting, timeout: timeouts.command)
        try Self.expect(greeting, step: .greeting) { $0.code == 220 }
        var ehlo = try await connection.command("EHLO \(settings.ehloName)", step: .ehlo, timeout: timeouts.command)
        try Self.expect(ehlo, step: .ehlo) { $0.code == 250 }

        var usedTLS = false
        if case .startTLS(let trust) = settings.security {
            guard ehlo.extensions["STARTTLS"] != nil else {
                throw SMTPError(.unsupported, step: .startTLS, message: "the server does not offer STARTTLS, which the integration requires (\"starttls\": \"required\"); use a server or port that does (usually 587)")
            }
            let reply = try await connection.command("STARTTLS", step: .startTLS, timeout: timeouts.command)
            try Self.expect(reply, step: .startTLS) { $0.code == 220 }
            try await connection.upgradeToTLS(context: try Self.tlsContext(trust), host: settings.host, timeout: timeouts.command)
            usedTLS = true
            // RFC 3207 §4.2: forget what the server said before TLS; ask again.
            ehlo = try await connection.command("EHLO \(settings.ehloName)", step: .ehlo, timeout: timeouts.command)
            try Self.expect(ehlo, step: .ehlo) { $0.code == 250 }
        }

        var mechanism: String?
        if let credentials = settings.credentials {
            mechanism = try await authenticate(connection, credentials: credentials, offered: ehlo.extensions["AUTH"] ?? [])
        }

        let mailFrom = try await connection.command("MAIL FROM:<\(sender)>", step: .mailFrom, timeout: timeouts.command)
        try Self.expect(mailFrom, step: .mailFrom) { $0.code == 250 }
        for recipient in recipients {
            let reply = try await connection.command("RCPT TO:<\(recipient)>", step: .rcptTo, timeout: timeouts.command)
            try Self.expect(reply, step: .rcptTo) { $0.code == 250 || $0.code == 251 }
        }
        let data = try await connection.command("DATA", step: .data, timeout: timeouts.command)
        try Self.expect(data, step: .data) { $0.code == 354 }
        try await connection.write(SMTPData.stuffed(message), timeout: timeouts.dataEnd)
        let accepted = try await connection.reply(step: .message, timeout: timeouts.dataEnd)
        try Self.expect(accepted, step: .message) { $0.code == 250 }
        logger.debug("smtp message accepted", metadata: ["smtp.host": "\(settings.host)", "smtp.reply": "\(accepted.code)"])

        // The message is accepted: a failing QUIT changes nothing.
        _ = try? await connection.command("QUIT", step: .quit, timeout: timeouts.command)
        return Receipt(reply: accepted, usedTLS: usedTLS, authMechanism: mechanism)
    }

    /// AUTH PLAIN (RFC 4616) when offered, else AUTH LOGIN. The command lines carry the
    /// password base64-encoded; they never reach an error or a log.
    private func authenticate(_ connection: SMTPConnection, credentials: SMTPCredentials, offered: [String]) async throws -> String {
        let timeout = settings.timeouts.command
        if offered.contains("PLAIN") {
            let token = Base64.encode(Array("\0\(credentials.username)\0\(credentials.password)".utf8))
            let reply = try await connection.command("AUTH PLAIN \(token)", step: .auth, timeout: timeout)
            try Self.expect(reply, step: .auth) { $0.code == 235 }
            return "PLAIN"
        }
        if offered.contains("LOGIN") {
            var reply = try await connection.command("AUTH LOGIN", step: .auth, timeout: timeout)
            try Self.expect(reply, step: .auth) { $0.code == 334 }
            reply = try await connection.command(Base64.encode(Array(credentials.username.utf8)), step: .auth, timeout: timeout)
            try Self.expect(reply, step: .auth) { $0.code == 334 }
            reply = try await connection.command(Base64.encode(Array(credentials.password.utf8)), step: .auth, timeout: timeout)
            try Self.expect(reply, step: .auth) { $0.code == 235 }
            return "LOGIN"
        }
        let list = offered.isEmpty ? "none" : offered.joined(separator: " ")
        throw SMTPError(.unsupported, step: .auth, message: "the server offers no AUTH mechanism this client speaks (PLAIN, LOGIN); it offers: \(list)")
    }

    private static func expect(_ reply: SMTPReply, step: SMTPStep, _ isExpected: (SMTPReply) -> Bool) throws {
        guard !isExpected(reply) else { return }
        let hint: String
        switch (step, reply.code) {
        case (.auth, 535), (.auth, 534): hint = "authentication failed: check the username and the password in the environment variables the registry names"
        case (_, 421): hint = "the server is closing the connection (busy or shutting down); the delivery is retried"
        case (_, 400..<500): hint = "the server refused for now; the delivery is retried"
        case (.rcptTo, _): hint = "the server refused the recipient: check \"to\""
        case (.mailFrom, _): hint = "the server refused the sender: check \"from\" (the account may not send as it)"
        default: hint = "the server refused the \(step.rawValue) step"
        }
        let code: SMTPError.Code = (reply.isTransientFailure || reply.isPermanentFailure) ? .rejected : .protocolViolation
        throw SMTPError(code, step: step, reply: reply, message: hint)
    }

    /// An envelope address: `local@domain`, ASCII, no spaces, angle brackets or line breaks
    /// (anything else could inject SMTP commands).
    static func checkEnvelopeAddress(_ address: String, step: SMTPStep) throws {
        let bytes = Array(address.utf8)
        let isClean = !bytes.isEmpty && bytes.count <= 254 && bytes.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != 0x3C && $0 != 0x3E }
        guard isClean, let at = bytes.lastIndex(of: 0x40), at > 0, at < bytes.count - 1 else {
            throw SMTPError(.invalidRequest, step: step, message: "\(step == .mailFrom ? "\"from\"" : "a \"to\" address") is not a plain ASCII address like user@example.com")
        }
    }

    static func tlsContext(_ trust: SMTPSettings.TLSTrust) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        switch trust {
        case .system: break
        case .certificateFile(let path): configuration.trustRoots = .file(path)
        case .unverified: configuration.certificateVerification = .none
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw SMTPError(.invalidRequest, step: .tlsHandshake, message: "the TLS settings cannot be used (is tls_ca_file a readable PEM file?)", cause: String(describing: error))
        }
    }
}

/// One open SMTP connection: writes command lines and waits for replies through the
/// handler on the channel's event loop.
struct SMTPConnection: Sendable {
    let channel: any Channel
    let handler: NIOLoopBound<SMTPReplyHandler>

    static func open(settings: SMTPSettings, group: any EventLoopGroup) async throws -> SMTPConnection {
        // The handler is kept as the channel is set up: a server that greets with 421 and
        // closes at once has torn the pipeline down before a lookup after connect could run.
        let slot = Mutex<NIOLoopBound<SMTPReplyHandler>?>(nil)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(settings.timeouts.connect)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = SMTPReplyHandler()
                    try channel.pipeline.syncOperations.addHandler(handler)
                    slot.withLock { $0 = NIOLoopBound(handler, eventLoop: channel.eventLoop) }
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: settings.host, port: settings.port).get()
        } catch {
            throw SMTPError(.network, step: .connect, message: "cannot connect to \(settings.host):\(settings.port); check smtp_host and smtp_port, or the server is down (retried)", cause: String(describing: error))
        }
        guard let handler = slot.withLock({ $0 }) else {
            try? await channel.close().get()
            throw SMTPError(.network, step: .connect, message: "the connection was set up without its handler")
        }
        return SMTPConnection(channel: channel, handler: handler)
    }

    func reply(step: SMTPStep, timeout: TimeAmount) async throws -> SMTPReply {
        let handler = self.handler
        let loop = channel.eventLoop
        return try await loop.flatSubmit { handler.value.nextReply(step: step, timeout: timeout, on: loop) }.get()
    }

    func command(_ line: String, step: SMTPStep, timeout: TimeAmount) async throws -> SMTPReply {
        var buffer = channel.allocator.buffer(capacity: line.utf8.count + 2)
        buffer.writeString(line)
        buffer.writeStaticString("\r\n")
        try await send(buffer, step: step, timeout: timeout)
        return try await reply(step: step, timeout: timeout)
    }

    func write(_ bytes: [UInt8], timeout: TimeAmount) async throws {
        try await send(channel.allocator.buffer(bytes: bytes), step: .message, timeout: timeout)
    }

    /// Writes with a deadline: a server that stops reading (a full TCP window) would hold a
    /// write forever, so the connection is closed when the deadline passes, which fails it.
    private func send(_ buffer: ByteBuffer, step: SMTPStep, timeout: TimeAmount) async throws {
        let channel = self.channel
        let deadline = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        do {
            try await channel.writeAndFlush(buffer).get()
        } catch {
            throw SMTPError(.network, step: step, message: "the connection failed while sending (or the server stopped reading for \(timeout.nanoseconds / 1_000_000_000) s)", cause: String(describing: error))
        }
    }

    /// Puts TLS under the conversation and waits for the handshake. Refuses when the server
    /// sent anything after its 220 (RFC 3207 §5: such bytes would be read as if protected).
    func upgradeToTLS(context: NIOSSLContext, host: String, timeout: TimeAmount) async throws {
        let handler = self.handler
        let channel = self.channel
        let loop = channel.eventLoop
        let handshake = loop.flatSubmit { () -> EventLoopFuture<Void> in
            guard !handler.value.hasUnreadInput else {
                return loop.makeFailedFuture(SMTPError(.protocolViolation, step: .startTLS, message: "the server sent data after its STARTTLS reply, before TLS began; refusing to go on (a man in the middle may be injecting commands)"))
            }
            do {
                // SNI takes a name, never an IP address; the certificate is still checked.
                let isAddress = (try? SocketAddress(ipAddress: host, port: 0)) != nil
                let tls = try NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host)
                try channel.pipeline.syncOperations.addHandler(tls, position: .first)
            } catch {
                return loop.makeFailedFuture(SMTPError(.tls, step: .tlsHandshake, message: "cannot start TLS", cause: String(describing: error)))
            }
            return handler.value.handshakeCompleted(timeout: timeout, on: loop)
        }
        try await handshake.get()
    }

    func close() async {
        try? await channel.close().get()
    }
}
