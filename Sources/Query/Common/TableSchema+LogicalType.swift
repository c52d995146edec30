import Core

extension TableSchema.Column {
    /// The SQL type the engine gives this column.
    public var type: LogicalType { LogicalType(kind) }
}
