import Core

/// One leaf column of a flat Parquet schema.
public struct ParquetColumn: Equatable, Sendable {
    public var name: String
    public var kind: ColumnKind
    /// OPTIONAL (nullable, definition levels) when true, REQUIRED otherwise.
    public var isOptional: Bool

    public init(name: String, kind: ColumnKind, isOptional: Bool = true) {
        self.name = name
        self.kind = kind
        self.isOptional = isOptional
    }
}

/// A flat schema: the root plus one leaf per column, in file order.
public struct ParquetSchema: Equatable, Sendable {
    public var columns: [ParquetColumn]

    public init(_ columns: [ParquetColumn]) {
        self.columns = columns
    }

    /// Index of the column called `name`.
    public func index(of name: String) -> Int? {
        columns.firstIndex { $0.name == name }
    }
}
