/// Where in the SQL text something is: 1-based line and column plus the 0-based byte offset.
public struct SourcePosition: Sendable, Hashable, CustomStringConvertible {
    public var offset: Int
    public var line: Int
    public var column: Int

    public init(offset: Int, line: Int, column: Int) {
        self.offset = offset
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column)" }
}

/// Every error a query can end with. `code` says which stage refused it; `message` says what
/// was wrong and, where it helps, what was expected; `position` points into the SQL text.
public struct QueryError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Kind: String, Sendable {
            case syntax = "Parser Error"
            case notSupported = "Not implemented Error"
            case catalog = "Catalog Error"
            case binder = "Binder Error"
            case conversion = "Conversion Error"
            case outOfRange = "Out of Range Error"
            case invalidInput = "Invalid Input Error"
            case memoryLimit = "Out of Memory Error"
            case timeout = "Timeout Error"
            case resultTooLarge = "Result Limit Error"
            case io = "IO Error"
            case `internal` = "Internal Error"
        }
        fileprivate var kind: Kind

        /// The SQL text does not parse.
        public static let syntax = Code(kind: .syntax)
        /// The SQL uses a feature this engine deliberately does not run (JOIN, INSERT, ...).
        public static let notSupported = Code(kind: .notSupported)
        /// Unknown table or function.
        public static let catalog = Code(kind: .catalog)
        /// Unknown column, type mismatch, aggregate misuse.
        public static let binder = Code(kind: .binder)
        /// A value could not be cast.
        public static let conversion = Code(kind: .conversion)
        /// Integer overflow and similar.
        public static let outOfRange = Code(kind: .outOfRange)
        /// Bad input to a function (malformed JSON, bad date part).
        public static let invalidInput = Code(kind: .invalidInput)
        /// The query's hash tables or buffers would exceed `QueryOptions.memoryBytesMax`.
        public static let memoryLimit = Code(kind: .memoryLimit)
        /// The query ran longer than `QueryOptions.timeoutMs`.
        public static let timeout = Code(kind: .timeout)
        /// The result would have more than `QueryOptions.resultRowsMax` rows.
        public static let resultTooLarge = Code(kind: .resultTooLarge)
        /// The storage layer failed to read a column.
        public static let io = Code(kind: .io)
        /// A bug in the engine.
        public static let `internal` = Code(kind: .internal)

        /// The DuckDB-style label, e.g. "Parser Error".
        public var description: String { kind.rawValue }

        /// A stable snake_case name for APIs (`{"error": "syntax_error", ...}`).
        public var identifier: String {
            switch kind {
            case .syntax: return "syntax_error"
            case .notSupported: return "not_supported"
            case .catalog: return "unknown_name"
            case .binder: return "binder_error"
            case .conversion: return "conversion_error"
            case .outOfRange: return "out_of_range"
            case .invalidInput: return "invalid_input"
            case .memoryLimit: return "memory_limit"
            case .timeout: return "timeout"
            case .resultTooLarge: return "result_too_large"
            case .io: return "io_error"
            case .internal: return "internal_error"
            }
        }

        /// Whether the query itself is at fault (a 4xx at the HTTP edge) rather than the
        /// server (storage failures and engine bugs).
        public var isCallerError: Bool { kind != .io && kind != .internal }
    }

    public var code: Code
    public var message: String
    public var position: SourcePosition?

    public init(_ code: Code, _ message: String, at position: SourcePosition? = nil) {
        self.code = code
        self.message = message
        self.position = position
    }

    public var description: String {
        if let position {
            return "\(code): \(message) (at \(position))"
        }
        return "\(code): \(message)"
    }
}
