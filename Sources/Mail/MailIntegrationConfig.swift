/// The registry fields the email integrations share (`email_digest`, `deactivation_forward`),
/// checked when the registry is read, with secrets read from the environment only when a
/// message is sent:
///
/// ```json
/// {"id": "digest", "kind": "email_digest", "since": "2026-12-01T00:00:00Z",
///  "smtp_host": "smtp.example.com", "smtp_port": 587,
///  "smtp_username_env": "ACME_SMTP_USER", "smtp_password_env": "ACME_SMTP_PASSWORD",
///  "from": "Trackhouse <digest@example.com>", "to": "team@example.com, ceo@example.com",
///  "period": "weekly", "starttls": "required"}
/// ```
/// `starttls`: `required` (default) or `none` (a local relay; no credentials then).
/// `tls_ca_file`: a PEM file of certificates to trust instead of the system roots (a private
/// CA or a self-signed server's own certificate; still verified, host name included).
/// `tls_verify`: `full` (default) or `none` — accept any certificate; for a self-signed test
/// server only.
public struct MailIntegrationConfig: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var security: SMTPSettings.Security
    /// The environment variables holding the username and password (both or neither).
    public var usernameEnv: String?
    public var passwordEnv: String?
    public var from: MailAddress
    public var to: [MailAddress]
    /// `email_digest` only.
    public var period: DigestFrequency?

    /// A refused field and how to fix it.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var field: String
        public var message: String
        public var description: String { "\(field): \(message)" }
    }

    public static let requiredFields = ["smtp_host", "from", "to"]

    /// Parses the entry's string fields (numbers as their literal text).
    public static func parse(_ fields: [String: String], needsPeriod: Bool) -> Result<MailIntegrationConfig, Problem> {
        func problem(_ field: String, _ message: String) -> Result<MailIntegrationConfig, Problem> {
            .failure(Problem(field: field, message: message))
        }
        guard let host = fields["smtp_host"]?.trimmingSpaces, !host.isEmpty,
              host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x2F && $0 != 0x40 }) else {
            return problem("smtp_host", "is required: the SMTP server's host name, e.g. \"smtp.example.com\"")
        }
        var port = 587
        if let text = fields["smtp_port"] {
            guard let value = Int(text), (1...65_535).contains(value) else { return problem("smtp_port", "\"\(text)\" is not a port (1–65535; usually 587)") }
            port = value
        }
        let starttls = fields["starttls"] ?? "required"
        guard starttls == "required" || starttls == "none" else {
            return problem("starttls", "\"\(starttls)\" must be \"required\" (default) or \"none\" (a local relay without TLS)")
        }
        let verify = fields["tls_verify"] ?? "full"
        guard verify == "full" || verify == "none" else {
            return problem("tls_verify", "\"\(verify)\" must be \"full\" (default) or \"none\" (any certificate: a self-signed test server only)")
        }
        var trust = SMTPSettings.TLSTrust.system
        if let file = fields["tls_ca_file"], !file.isEmpty {
            guard verify == "full" else { return problem("tls_ca_file", "cannot be combined with \"tls_verify\": \"none\"") }
            trust = .certificateFile(file)
        } else if verify == "none" {
            trust = .unverified
        }
        let usernameEnv = fields["smtp_username_env"].flatMap { $0.isEmpty ? nil : $0 }
        let passwordEnv = fields["smtp_password_env"].flatMap { $0.isEmpty ? nil : $0 }
        guard (usernameEnv == nil) == (passwordEnv == nil) else {
            return problem(usernameEnv == nil ? "smtp_username_env" : "smtp_password_env",
                           "smtp_username_env and smtp_password_env go together (the names of the environment variables holding them)")
        }
        if starttls == "none", usernameEnv != nil {
            return problem("starttls", "\"none\" sends in plain text, and credentials are never sent without TLS: use \"required\" or drop the smtp_*_env fields")
        }
        guard let fromText = fields["from"], let from = MailAddress.parse(fromText) else {
            return problem("from", "is required: an address such as \"Trackhouse <digest@example.com>\"")
        }
        guard let toText = fields["to"] else { return problem("to", "is required: one or more addresses, separated by commas") }
        var to: [MailAddress] = []
        for part in Self.splitAddresses(toText) {
            guard let address = MailAddress.parse(part) else { return problem("to", "\"\(part)\" is not an address such as team@example.com") }
            to.append(address)
        }
        guard !to.isEmpty, to.count <= 50 else { return problem("to", "needs 1 to 50 addresses, separated by commas") }
        var period: DigestFrequency?
        if needsPeriod {
            let text = fields["period"] ?? ""
            guard let value = DigestFrequency(rawValue: text) else {
                return problem("period", "\"\(text)\" must be daily, weekly or monthly")
            }
            period = value
        }
        return .success(MailIntegrationConfig(
            host: host, port: port, security: starttls == "none" ? .none : .startTLS(trust),
            usernameEnv: usernameEnv, passwordEnv: passwordEnv, from: from, to: to, period: period))
    }

    /// The SMTP settings, with the credentials read from the environment variables named.
    /// The error names a missing variable, never a value.
    public func smtpSettings(environment: [String: String]) throws(Problem) -> SMTPSettings {
        var credentials: SMTPCredentials?
        if let usernameEnv, let passwordEnv {
            guard let username = environment[usernameEnv], !username.isEmpty else {
                throw Problem(field: "smtp_username_env", message: "the environment variable \(usernameEnv) is not set; set it in serve's environment and restart")
            }
            guard let password = environment[passwordEnv], !password.isEmpty else {
                throw Problem(field: "smtp_password_env", message: "the environment variable \(passwordEnv) is not set; set it in serve's environment and restart")
            }
            credentials = SMTPCredentials(username: username, password: password)
        }
        return SMTPSettings(host: host, port: port, security: security, credentials: credentials, ehloName: from.domain)
    }

    /// `a@x, "B, Inc" <b@y>` → the two; commas inside quotes do not split.
    static func splitAddresses(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var quoted = false
        for character in text {
            if character == "\"" { quoted.toggle() }
            if character == ",", !quoted {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        return parts.map(\.trimmingSpaces).filter { !$0.isEmpty }
    }
}
