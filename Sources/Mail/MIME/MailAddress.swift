/// A mailbox: an optional display name and an address (`Acme Support <support@acme.test>`).
public struct MailAddress: Sendable, Equatable, CustomStringConvertible {
    public var name: String?
    public var address: String

    public init(_ address: String, name: String? = nil) {
        self.address = address
        self.name = name
    }

    /// Parses `user@example.com` or `Display Name <user@example.com>` (a registry value or a
    /// site's admin_email). Nil unless the address is plain ASCII `local@domain` with no
    /// spaces, angle brackets, quotes, commas or line breaks: such values go into headers and
    /// SMTP commands, where anything else could inject.
    public static func parse(_ text: String) -> MailAddress? {
        let trimmed = text.trimmingSpaces
        var name: String?
        var address = trimmed
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            var display = String(trimmed[..<open]).trimmingSpaces
            if display.count >= 2, display.hasPrefix("\""), display.hasSuffix("\"") { display = String(display.dropFirst().dropLast()) }
            name = display.isEmpty ? nil : display
        }
        guard isPlainAddress(address) else { return nil }
        if let candidate = name, candidate.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { name = nil }
        return MailAddress(address, name: name)
    }

    /// `local@domain`: printable ASCII without space, `<>()[],;:"\`, one `@` with text on
    /// both sides, at most 254 bytes.
    public static func isPlainAddress(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (3...254).contains(bytes.count) else { return false }
        let forbidden: Set<UInt8> = Array("<>()[],;:\"\\ ".utf8).reduce(into: []) { $0.insert($1) }
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && !forbidden.contains($0) }) else { return false }
        guard let at = bytes.firstIndex(of: 0x40), bytes.lastIndex(of: 0x40) == at else { return false }
        return at > 0 && at < bytes.count - 1
    }

    /// The domain part, for Message-IDs.
    var domain: String {
        address.split(separator: "@").last.map(String.init) ?? "localhost"
    }

    /// The header form: the name quoted or encoded as needed, then `<address>`.
    var headerValue: String {
        guard let name, !name.isEmpty else { return address }
        return "\(HeaderText.phrase(name)) <\(address)>"
    }

    public var description: String { headerValue }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" || first == "\r" || first == "\n" { scalars = scalars.dropFirst() }
        while let last = scalars.last, last == " " || last == "\t" || last == "\r" || last == "\n" { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
