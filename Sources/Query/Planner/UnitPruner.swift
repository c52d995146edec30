import Core

/// Decides from partition values and column statistics that a scan unit cannot hold a row
/// passing the filter (DuckDB's zone-map check). Conservative: anything it does not
/// understand keeps the unit.
struct UnitPruner {
    let schema: TableSchema

    /// Why the unit can be skipped, or nil when it may hold matching rows.
    func pruneReason(_ filter: BoundExpression, _ unit: any ScanUnit) -> String? {
        if unit.rowCount == 0 { return "empty" }
        return reason(filter, unit)
    }

    private func reason(_ expression: BoundExpression, _ unit: any ScanUnit) -> String? {
        switch expression.kind {
        case .constant(let value):
            if case .bool(true) = value { return nil }
            return "filter is never true"
        case .and(let terms):
            for term in terms { if let why = reason(term, unit) { return why } }
            return nil
        case .or(let terms):
            var reasons: [String] = []
            for term in terms {
                guard let why = reason(term, unit) else { return nil }
                reasons.append(why)
            }
            return reasons.joined(separator: " and ")
        case .function(let function, let arguments) where function.isComparison:
            if case .column(let column) = arguments[0].kind, let value = arguments[1].constantValue {
                return excludes(column: column, function, value, unit)
            }
            if case .column(let column) = arguments[1].kind, let value = arguments[0].constantValue {
                return excludes(column: column, function.flipped, value, unit)
            }
            return nil
        case .inList(let operand, let list, false):
            guard case .column(let column) = operand.kind else { return nil }
            var reasons: [String] = []
            for element in list {
                guard let value = element.constantValue, let why = excludes(column: column, .equal, value, unit) else {
                    return nil
                }
                reasons.append(why)
            }
            return reasons.first.map { _ in "\(schema.columns[column].name): no IN value within range" }
        case .like(let operand, let pattern, false, false):
            guard case .column(let column) = operand.kind, case .string(let text)? = pattern.constantValue else {
                return nil
            }
            return excludesLike(column: column, pattern: text, unit)
        case .isNull(let operand, let negated):
            guard case .column(let column) = operand.kind else { return nil }
            let name = schema.columns[column].name
            if unit.partitionValues[name] != nil { return negated ? nil : "\(name) partition is not NULL" }
            guard let nullCount = unit.statistics(column: name)?.nullCount else { return nil }
            if negated, nullCount >= unit.rowCount { return "\(name) is all NULL" }
            if !negated, nullCount == 0 { return "\(name) has no NULL" }
            return nil
        default:
            return nil
        }
    }

    /// Whether every row of the unit passes `expression` (the mirror of `pruneReason`): its
    /// partition values and statistics prove each row true — a project's own `project_id =`
    /// on its own partition, a time range the unit lies inside. The scan then evaluates no
    /// filter there and reads no column only the filter needs. Conservative: anything it does
    /// not understand, and any column whose NULL count is unknown, is not proven.
    func isAlwaysTrue(_ expression: BoundExpression, _ unit: any ScanUnit) -> Bool {
        switch expression.kind {
        case .constant(let value):
            if case .bool(true) = value { return true }
            return false
        case .and(let terms):
            return terms.allSatisfy { isAlwaysTrue($0, unit) }
        case .or(let terms):
            return terms.contains { isAlwaysTrue($0, unit) }
        case .function(let function, let arguments) where function.isComparison:
            if case .column(let column) = arguments[0].kind, let value = arguments[1].constantValue {
                return includes(column: column, function, value, unit)
            }
            if case .column(let column) = arguments[1].kind, let value = arguments[0].constantValue {
                return includes(column: column, function.flipped, value, unit)
            }
            return false
        case .inList(let operand, let list, false):
            guard case .column(let column) = operand.kind else { return false }
            return list.contains { element in element.constantValue.map { includes(column: column, .equal, $0, unit) } ?? false }
        case .isNull(let operand, let negated):
            guard case .column(let column) = operand.kind else { return false }
            let name = schema.columns[column].name
            if unit.partitionValues[name] != nil { return negated }
            guard let nullCount = unit.statistics(column: name)?.nullCount else { return false }
            return negated ? nullCount == 0 : nullCount >= unit.rowCount
        default:
            return false
        }
    }

    /// Whether every row satisfies `column <op> value`: a partition value that does, or no
    /// NULL and min/max bounds inside the comparison.
    private func includes(column: Int, _ function: ScalarFunction, _ value: Value, _ unit: any ScanUnit) -> Bool {
        let name = schema.columns[column].name
        let type = schema.columns[column].type
        if value.isNull { return false }
        if let partition = unit.partitionValues[name], type == .varchar {
            guard let order = Value.string(partition).compare(to: value) else { return false }
            return holds(function, order)
        }
        guard let statistics = unit.statistics(column: name), statistics.nullCount == 0,
              let low = normalize(statistics.min, type), let high = normalize(statistics.max, type),
              let lowOrder = low.compare(to: value), let highOrder = high.compare(to: value) else { return false }
        switch function {
        case .equal: return lowOrder == 0 && highOrder == 0
        case .notEqual: return highOrder < 0 || lowOrder > 0
        case .less: return highOrder < 0
        case .lessOrEqual: return highOrder <= 0
        case .greater: return lowOrder > 0
        case .greaterOrEqual: return lowOrder >= 0
        default: return false
        }
    }

    /// `column LIKE 'prefix%...'`: values with that prefix sort between the prefix and the
    /// prefix followed by the largest bytes, so min/max can rule the unit out.
    private func excludesLike(column: Int, pattern: String, _ unit: any ScanUnit) -> String? {
        let name = schema.columns[column].name
        if let partition = unit.partitionValues[name] {
            let matcher = LikeMatcher(pattern: Array(pattern.utf8), caseInsensitive: false)
            let matches = Array(partition.utf8).withUnsafeBufferPointer { matcher.matches($0) }
            return matches ? nil : "\(name) partition = '\(partition)' does not match LIKE"
        }
        let prefix = Array(pattern.utf8.prefix { $0 != UInt8(ascii: "%") && $0 != UInt8(ascii: "_") })
        guard !prefix.isEmpty, let statistics = unit.statistics(column: name) else { return nil }
        if let nullCount = statistics.nullCount, nullCount >= unit.rowCount { return "\(name) is all NULL" }
        if case .string(let max)? = statistics.max, Array(max.utf8).lexicographicallyPrecedes(prefix) {
            return "\(name) max \(Value.string(max).sqlLiteral) is below the LIKE prefix"
        }
        if case .string(let min)? = statistics.min, prefix.lexicographicallyPrecedes(Array(min.utf8).prefix(prefix.count)) {
            return "\(name) min \(Value.string(min).sqlLiteral) is above the LIKE prefix"
        }
        return nil
    }

    /// Why no row can satisfy `column <op> value` in the unit, or nil.
    private func excludes(column: Int, _ function: ScalarFunction, _ value: Value, _ unit: any ScanUnit) -> String? {
        let name = schema.columns[column].name
        let type = schema.columns[column].type
        if value.isNull { return "comparison with NULL" }

        if let partition = unit.partitionValues[name], type == .varchar {
            let order = Value.string(partition).compare(to: value)
            if let order, !holds(function, order) { return "\(name) partition = '\(partition)'" }
            return nil
        }
        var bounds: (min: Value?, max: Value?)?
        if name == "received_at", let month = unit.partitionValues["month"], let range = monthRange(month) {
            bounds = (.timestamp(range.start), .timestamp(range.end - 1))
            if let why = excludesRange(function, value, bounds!) { return "month partition \(month): \(why)" }
        }
        guard let statistics = unit.statistics(column: name) else { return nil }
        if let nullCount = statistics.nullCount, nullCount >= unit.rowCount { return "\(name) is all NULL" }
        let statBounds = (normalize(statistics.min, type), normalize(statistics.max, type))
        if let why = excludesRange(function, value, statBounds) { return "\(name) \(why)" }
        return nil
    }

    private func excludesRange(_ function: ScalarFunction, _ value: Value, _ bounds: (min: Value?, max: Value?)) -> String? {
        let minOrder = bounds.min.flatMap { value.compare(to: $0) } // value vs min
        let maxOrder = bounds.max.flatMap { value.compare(to: $0) } // value vs max
        let described = "min \(bounds.min?.sqlLiteral ?? "?") max \(bounds.max?.sqlLiteral ?? "?")"
        switch function {
        case .equal:
            if let minOrder, minOrder < 0 { return "\(described) excludes = \(value.sqlLiteral)" }
            if let maxOrder, maxOrder > 0 { return "\(described) excludes = \(value.sqlLiteral)" }
        case .notEqual:
            if let minOrder, let maxOrder, minOrder == 0, maxOrder == 0 {
                return "\(described) excludes <> \(value.sqlLiteral)"
            }
        case .less:
            if let minOrder, minOrder <= 0 { return "\(described) excludes < \(value.sqlLiteral)" }
        case .lessOrEqual:
            if let minOrder, minOrder < 0 { return "\(described) excludes <= \(value.sqlLiteral)" }
        case .greater:
            if let maxOrder, maxOrder >= 0 { return "\(described) excludes > \(value.sqlLiteral)" }
        case .greaterOrEqual:
            if let maxOrder, maxOrder > 0 { return "\(described) excludes >= \(value.sqlLiteral)" }
        default:
            break
        }
        return nil
    }

    private func holds(_ function: ScalarFunction, _ order: Int) -> Bool {
        switch function {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .less: return order < 0
        case .lessOrEqual: return order <= 0
        case .greater: return order > 0
        case .greaterOrEqual: return order >= 0
        default: return true
        }
    }

    /// Statistics may give a timestamp column's bounds as plain integers.
    private func normalize(_ value: Value?, _ type: LogicalType) -> Value? {
        guard let value else { return nil }
        if type == .timestamp, case .int64(let micros) = value { return .timestamp(micros) }
        if type == .double, case .int64(let number) = value { return .double(Double(number)) }
        return value
    }
}
