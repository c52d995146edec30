import Core


/// Builds SQL text for the engine from values the API has already validated. Column names
/// come from the table schema (never from the caller verbatim), but are still quoted so a
/// column named like a keyword stays a column.
enum SQLText {
    /// `'it''s'`: a string literal with doubled quotes.
    static func string(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// `TIMESTAMP '2026-11-28T10:15:03.123456Z'` (the engine reads ISO text with `T` and `Z`).
    static func timestamp(_ micros: Int64) -> String {
        "TIMESTAMP '" + UTCTime.formatEnvelope(micros: micros) + "'"
    }

    /// `"column"`.
    static func identifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `column >= from AND column < to`: the API's half-open ranges.
    static func inRange(_ column: String, _ range: TimeRange) -> String {
        "\(identifier(column)) >= \(timestamp(range.from)) AND \(identifier(column)) < \(timestamp(range.to))"
    }
}
