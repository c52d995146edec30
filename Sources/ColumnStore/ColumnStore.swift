// ColumnStore
