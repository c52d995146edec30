/// Header values (RFC 5322, RFC 2047): plain text stays as it is, anything outside printable
/// ASCII becomes UTF-8 encoded-words, long values are folded, and line breaks never survive
/// (they would start a new header: header injection).
enum HeaderText {
    /// An unstructured value (Subject): folded at spaces when long; encoded-words when not
    /// printable ASCII.
    static func unstructured(_ text: String, headerName: String) -> String {
        let clean = singleLine(text)
        if clean.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) {
            return fold(clean, firstLineUsed: headerName.utf8.count + 2)
        }
        return encodedWords(clean)
    }

    /// A display name: as it is when it is atoms and spaces, quoted when it has specials,
    /// encoded-words when not ASCII.
    static func phrase(_ text: String) -> String {
        let clean = singleLine(text)
        guard clean.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return encodedWords(clean) }
        let atext = Set(Array("!#$%&'*+-/=?^_`{|}~ ".utf8))
        if clean.utf8.allSatisfy({ isAlphanumeric($0) || atext.contains($0) }) { return clean }
        var quoted = "\""
        for character in clean {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        return quoted + "\""
    }

    /// Line breaks and other controls become spaces.
    static func singleLine(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
    }

    /// `=?UTF-8?B?…?=` words of at most 75 characters (RFC 2047 §2), split between
    /// characters, never inside one, separated by folding whitespace.
    static func encodedWords(_ text: String) -> String {
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in text {
            let bytes = Array(String(character).utf8)
            // 45 bytes of UTF-8 give 60 base64 characters: 12 + 60 = 72 ≤ 75.
            if chunk.count + bytes.count > 45, !chunk.isEmpty {
                words.append("=?UTF-8?B?\(Base64.encode(chunk))?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append("=?UTF-8?B?\(Base64.encode(chunk))?=") }
        return words.joined(separator: "\r\n ")
    }

    /// Folds at spaces so lines stay under 78 characters where the text allows.
    static func fold(_ text: String, firstLineUsed: Int) -> String {
        guard text.utf8.count + firstLineUsed > 78 else { return text }
        var out = ""
        var lineLength = firstLineUsed
        for (index, word) in text.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            if index > 0 {
                if lineLength + 1 + word.utf8.count > 78, lineLength > 1 {
                    out += "\r\n "
                    lineLength = 1
                } else {
                    out += " "
                    lineLength += 1
                }
            }
            out += word
            lineLength += word.utf8.count
        }
        return out
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }
}
