import NIOCore

/// Where and how to send: the server, TLS, credentials and timeouts. Built from the registry
/// by the integration kinds; the password comes from the environment variable the registry
/// names and is never printed (see `SMTPCredentials`).
public struct SMTPSettings: Sendable {
    /// Whether the conversation must be upgraded to TLS with STARTTLS before anything else.
    public enum Security: Sendable, Equatable {
        /// STARTTLS is required: a server that does not offer it is an error, never a fallback
        /// to plain text.
        case startTLS(TLSTrust)
        /// Plain text throughout (a local relay); credentials are refused in this mode.
        case none
    }

    /// Which server certificates STARTTLS accepts.
    public enum TLSTrust: Sendable, Equatable {
        /// The system's trust roots, and the certificate must name the host (the default).
        case system
        /// Only certificates that chain to the PEM certificates in this file, and the
        /// certificate must name the host: a private CA, or a self-signed server whose
        /// certificate is pinned this way.
        case certificateFile(String)
        /// Any certificate, unverified: for a self-signed test server only, and only when the
        /// registry says so explicitly (`"tls_verify": "none"`).
        case unverified
    }

    public struct Timeouts: Sendable, Equatable {
        public var connect: TimeAmount
        /// Each command's reply, the greeting and the TLS handshake.
        public var command: TimeAmount
        /// The reply to the end of the message (servers scan it first; RFC 5321 suggests 10 min).
        public var dataEnd: TimeAmount

        public init(connect: TimeAmount = .seconds(10), command: TimeAmount = .seconds(30), dataEnd: TimeAmount = .seconds(120)) {
            self.connect = connect
            self.command = command
            self.dataEnd = dataEnd
        }
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var credentials: SMTPCredentials?
    /// The name this client gives in EHLO.
    public var ehloName: String
    public var timeouts: Timeouts

    public init(host: String, port: Int = 587, security: Security = .startTLS(.system), credentials: SMTPCredentials? = nil,
                ehloName: String = "localhost", timeouts: Timeouts = Timeouts()) {
        self.host = host
        self.port = port
        self.security = security
        self.credentials = credentials
        self.ehloName = ehloName
        self.timeouts = timeouts
    }
}

/// A username and password for SMTP AUTH. Printing or reflecting it never shows the password.
public struct SMTPCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var username: String
    let password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    public var description: String { "SMTPCredentials(username: \(username), password: <hidden>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["username": username, "password": "<hidden>"]) }
}
