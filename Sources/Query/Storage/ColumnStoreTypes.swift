// The engine reads ColumnStore's decoded-column types (`ColumnData`, `ColumnStorage`,
// `StringColumn`, `ColumnKind`) directly: the Parquet reader's output is the scan's input,
// with no conversion in between.
@_exported import ColumnStore
