/// One lexical token of SQL text.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        /// An unquoted word: keyword or identifier; `text` keeps the original spelling.
        case word
        /// A "double-quoted" identifier, unescaped.
        case quotedIdentifier
        /// A 'single-quoted' string, unescaped.
        case string
        case integer
        case decimal
        /// Punctuation and operators: ( ) , . ; + - * / % = <> != < <= > >= :: ||
        case symbol
        case end
    }

    var kind: Kind
    var text: String
    var position: SourcePosition

    /// The uppercased word, for keyword matching; empty for other kinds.
    var keyword: String { kind == .word ? text.uppercased() : "" }

    /// How the token reads in an error message.
    var display: String {
        switch kind {
        case .end: return "end of input"
        case .string: return "'\(text)'"
        case .quotedIdentifier: return "\"\(text)\""
        default: return "\"\(text)\""
        }
    }
}
