/// The step of an SMTP conversation an error happened in; errors name it.
public enum SMTPStep: String, Sendable, Equatable {
    case connect = "connect"
    case greeting = "greeting"
    case ehlo = "EHLO"
    case startTLS = "STARTTLS"
    case tlsHandshake = "TLS handshake"
    case auth = "AUTH"
    case mailFrom = "MAIL FROM"
    case rcptTo = "RCPT TO"
    case data = "DATA"
    case message = "message body"
    case quit = "QUIT"
}

/// A failed SMTP delivery. `isTransient` is the retry policy's input: 4xx replies, network
/// failures, timeouts and TLS handshakes that did not complete may succeed later; 5xx replies
/// and a server that cannot do what the configuration requires (no STARTTLS, no AUTH) will not.
/// Messages never contain the password or the message; server replies have addresses masked.
public struct SMTPError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// The server answered with a 4xx or 5xx reply (see `reply`).
        case rejected = "smtp_rejected"
        /// A reply did not come within the step's timeout.
        case timeout = "smtp_timeout"
        /// Could not connect, or the connection closed or failed mid-conversation.
        case network = "smtp_network"
        /// TLS could not be set up (handshake, certificate verification).
        case tls = "smtp_tls"
        /// The server does not offer what the configuration requires.
        case unsupported = "smtp_unsupported"
        /// The server sent something that is not SMTP.
        case protocolViolation = "smtp_protocol"
        /// The settings or the message cannot be sent as they are (e.g. a bad address).
        case invalidRequest = "smtp_invalid_request"
    }

    public var code: Code
    public var step: SMTPStep
    /// The server's reply, when the error is one.
    public var reply: SMTPReply?
    /// What happened and how to fix it.
    public var message: String
    /// The underlying error's description (network, TLS), when there is one.
    public var cause: String?

    public init(_ code: Code, step: SMTPStep, reply: SMTPReply? = nil, message: String, cause: String? = nil) {
        self.code = code
        self.step = step
        self.reply = reply
        self.message = message
        self.cause = cause
    }

    /// Whether trying again later may succeed.
    public var isTransient: Bool {
        switch code {
        case .rejected: return reply?.isTransientFailure ?? true
        case .timeout, .network, .tls, .protocolViolation: return true
        case .unsupported, .invalidRequest: return false
        }
    }

    public var description: String {
        var text = "\(code.rawValue) at \(step.rawValue): \(message)"
        if let reply { text += " (server: \(reply))" }
        if let cause { text += " (cause: \(cause))" }
        return text
    }
}
