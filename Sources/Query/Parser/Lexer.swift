/// Splits SQL text into tokens, tracking line and column for error messages.
/// Handles `--` and `/* */` comments, '' escapes in strings and "" in quoted identifiers.
struct Lexer {
    private static let twoByteSymbols: Set<String> = ["<>", "!=", "<=", ">=", "::", "||", "=="]
    private static let singleSymbols = Set("(),.;+-*/%=<>[]".utf8)

    private let bytes: [UInt8]
    private var offset = 0
    private var line = 1
    private var lineStart = 0

    init(_ sql: String) {
        bytes = Array(sql.utf8)
    }

    static func tokenize(_ sql: String) throws -> [Token] {
        var lexer = Lexer(sql)
        var tokens: [Token] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private var position: SourcePosition {
        SourcePosition(offset: offset, line: line, column: offset - lineStart + 1)
    }

    private func peek(_ ahead: Int = 0) -> UInt8? {
        offset + ahead < bytes.count ? bytes[offset + ahead] : nil
    }

    private mutating func advance() {
        if bytes[offset] == UInt8(ascii: "\n") {
            line += 1
            lineStart = offset + 1
        }
        offset += 1
    }

    private mutating func skipSpaceAndComments() throws {
        while let byte = peek() {
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                advance()
            } else if byte == UInt8(ascii: "-"), peek(1) == UInt8(ascii: "-") {
                while let b = peek(), b != 0x0A { _ = b; advance() }
            } else if byte == UInt8(ascii: "/"), peek(1) == UInt8(ascii: "*") {
                let start = position
                advance(); advance()
                while true {
                    guard let b = peek() else {
                        throw QueryError(.syntax, "unterminated /* comment", at: start)
                    }
                    if b == UInt8(ascii: "*"), peek(1) == UInt8(ascii: "/") { advance(); advance(); break }
                    advance()
                }
            } else {
                return
            }
        }
    }

    private func text(from start: Int) -> String {
        String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    mutating func next() throws -> Token {
        try skipSpaceAndComments()
        let start = position
        guard let byte = peek() else { return Token(kind: .end, text: "", position: start) }

        if isIdentifierStart(byte) {
            while let b = peek(), isIdentifierPart(b) { advance() }
            return Token(kind: .word, text: text(from: start.offset), position: start)
        }
        if isDigit(byte) || (byte == UInt8(ascii: ".") && peek(1).map(isDigit) == true) {
            return try number(start: start)
        }
        if byte == UInt8(ascii: "'") {
            return Token(kind: .string, text: try quoted(UInt8(ascii: "'"), start: start, what: "string literal"),
                         position: start)
        }
        if byte == UInt8(ascii: "\"") {
            let name = try quoted(UInt8(ascii: "\""), start: start, what: "quoted identifier")
            return Token(kind: .quotedIdentifier, text: name, position: start)
        }
        if let second = peek(1) {
            let pair = String(decoding: [byte, second], as: UTF8.self)
            if Lexer.twoByteSymbols.contains(pair) {
                advance(); advance()
                return Token(kind: .symbol, text: pair == "==" ? "=" : pair, position: start)
            }
        }
        if Lexer.singleSymbols.contains(byte) {
            advance()
            return Token(kind: .symbol, text: String(UnicodeScalar(byte)), position: start)
        }
        let shown = byte < 0x80 ? String(UnicodeScalar(byte)) : "non-ASCII byte"
        throw QueryError(.syntax, "unexpected character \"\(shown)\"", at: start)
    }

    private mutating func number(start: SourcePosition) throws -> Token {
        var isDecimal = false
        while let b = peek(), isDigit(b) { advance() }
        if peek() == UInt8(ascii: "."), peek(1).map(isDigit) == true || !(peek(1).map(isIdentifierStart) ?? false) {
            isDecimal = true
            advance()
            while let b = peek(), isDigit(b) { advance() }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            let sign = peek(1)
            let digitAhead = sign.map(isDigit) == true
                || ((sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-")) && peek(2).map(isDigit) == true)
            if digitAhead {
                isDecimal = true
                advance()
                if !isDigit(peek()!) { advance() }
                while let b = peek(), isDigit(b) { advance() }
            }
        }
        if let b = peek(), isIdentifierStart(b) {
            throw QueryError(.syntax, "malformed number \"\(text(from: start.offset))\(String(UnicodeScalar(b)))\"",
                             at: start)
        }
        return Token(kind: isDecimal ? .decimal : .integer, text: text(from: start.offset), position: start)
    }

    private mutating func quoted(_ quote: UInt8, start: SourcePosition, what: String) throws -> String {
        advance()
        var content: [UInt8] = []
        while true {
            guard let b = peek() else {
                throw QueryError(.syntax, "unterminated \(what)", at: start)
            }
            advance()
            if b == quote {
                if peek() == quote {
                    content.append(quote)
                    advance()
                } else {
                    break
                }
            } else {
                content.append(b)
            }
        }
        return String(decoding: content, as: UTF8.self)
    }
}

@inline(__always) private func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
@inline(__always) private func isIdentifierStart(_ b: UInt8) -> Bool {
    (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b >= 0x80
}
@inline(__always) private func isIdentifierPart(_ b: UInt8) -> Bool { isIdentifierStart(b) || isDigit(b) || b == 0x24 }
