// Result column names for unaliased expressions, spelled the way DuckDB spells them
// (`count_star()`, `(a + b)`, `CAST(x AS BIGINT)`), so results look the same as DuckDB's.
extension Expr {
    var displayName: String {
        switch kind {
        case .column(_, let name): return name
        case .star: return "*"
        case .literal(let literal):
            switch literal {
            case .null: return "NULL"
            case .bool(let value): return value ? "true" : "false"
            case .integer(let text), .decimal(let text): return text
            case .string(let text): return "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
            case .timestamp(let text): return "CAST('\(text)' AS TIMESTAMP)"
            }
        case .unary(let op, let operand):
            switch op {
            case .negate: return "(-(\(operand.displayName)))"
            case .plus: return "(+(\(operand.displayName)))"
            case .not: return "(NOT \(operand.displayName))"
            }
        case .binary(let op, let left, let right):
            return "(\(left.displayName) \(op.rawValue) \(right.displayName))"
        case .isNull(let operand, let negated):
            return "(\(operand.displayName) IS \(negated ? "NOT " : "")NULL)"
        case .inList(let operand, let list, let negated):
            return "(\(operand.displayName) \(negated ? "NOT " : "")IN (\(list.map(\.displayName).joined(separator: ", "))))"
        case .between(let operand, let low, let high, let negated):
            return "(\(operand.displayName) \(negated ? "NOT " : "")BETWEEN \(low.displayName) AND \(high.displayName))"
        case .like(let operand, let pattern, let negated, let caseInsensitive):
            let symbol = (negated ? "!" : "") + (caseInsensitive ? "~~*" : "~~")
            return "(\(operand.displayName) \(symbol) \(pattern.displayName))"
        case .caseWhen(let operand, let branches, let otherwise):
            var text = "CASE "
            if let operand { text += operand.displayName + " " }
            for branch in branches {
                text += " WHEN (\(branch.condition.displayName)) THEN (\(branch.result.displayName))"
            }
            text += " ELSE \(otherwise?.displayName ?? "NULL") END"
            return text
        case .cast(let operand, let typeName):
            return "CAST(\(operand.displayName) AS \(typeName.type.name))"
        case .function(let name, let arguments, let distinct, let isStar):
            let lowered = name.lowercased()
            if isStar { return lowered == "count" ? "count_star()" : "\(lowered)(*)" }
            return "\(lowered)(\(distinct ? "DISTINCT " : "")\(arguments.map(\.displayName).joined(separator: ", ")))"
        }
    }

    /// Whether the expression calls an aggregate function anywhere.
    var containsAggregate: Bool {
        switch kind {
        case .column, .star, .literal: return false
        case .function(let name, let arguments, _, let isStar):
            if isStar || Binder.aggregateNames.contains(name.lowercased()) { return true }
            return arguments.contains { $0.containsAggregate }
        case .unary(_, let operand), .isNull(let operand, _), .cast(let operand, _): return operand.containsAggregate
        case .binary(_, let left, let right): return left.containsAggregate || right.containsAggregate
        case .inList(let operand, let list, _): return operand.containsAggregate || list.contains { $0.containsAggregate }
        case .between(let operand, let low, let high, _):
            return operand.containsAggregate || low.containsAggregate || high.containsAggregate
        case .like(let operand, let pattern, _, _): return operand.containsAggregate || pattern.containsAggregate
        case .caseWhen(let operand, let branches, let otherwise):
            return (operand?.containsAggregate ?? false)
                || branches.contains { $0.condition.containsAggregate || $0.result.containsAggregate }
                || (otherwise?.containsAggregate ?? false)
        }
    }

    /// The first column reference in the expression outside aggregates, for error messages.
    var firstColumnOutsideAggregate: (name: String, position: SourcePosition)? {
        switch kind {
        case .column(_, let name): return (name, position)
        case .star, .literal: return nil
        case .function(let name, let arguments, _, let isStar):
            if isStar || Binder.aggregateNames.contains(name.lowercased()) { return nil }
            return arguments.lazy.compactMap(\.firstColumnOutsideAggregate).first
        case .unary(_, let operand), .isNull(let operand, _), .cast(let operand, _):
            return operand.firstColumnOutsideAggregate
        case .binary(_, let left, let right):
            return left.firstColumnOutsideAggregate ?? right.firstColumnOutsideAggregate
        case .inList(let operand, let list, _):
            return operand.firstColumnOutsideAggregate ?? list.lazy.compactMap(\.firstColumnOutsideAggregate).first
        case .between(let operand, let low, let high, _):
            return operand.firstColumnOutsideAggregate ?? low.firstColumnOutsideAggregate
                ?? high.firstColumnOutsideAggregate
        case .like(let operand, let pattern, _, _):
            return operand.firstColumnOutsideAggregate ?? pattern.firstColumnOutsideAggregate
        case .caseWhen(let operand, let branches, let otherwise):
            if let found = operand?.firstColumnOutsideAggregate { return found }
            for branch in branches {
                if let found = branch.condition.firstColumnOutsideAggregate ?? branch.result.firstColumnOutsideAggregate {
                    return found
                }
            }
            return otherwise?.firstColumnOutsideAggregate
        }
    }
}

extension Expr {
    /// Every unqualified column name the expression mentions.
    var columnNames: [String] {
        switch kind {
        case .column(nil, let name): return [name]
        case .column, .star, .literal: return []
        case .function(_, let arguments, _, _): return arguments.flatMap(\.columnNames)
        case .unary(_, let operand), .isNull(let operand, _), .cast(let operand, _): return operand.columnNames
        case .binary(_, let left, let right): return left.columnNames + right.columnNames
        case .inList(let operand, let list, _): return operand.columnNames + list.flatMap(\.columnNames)
        case .between(let operand, let low, let high, _): return operand.columnNames + low.columnNames + high.columnNames
        case .like(let operand, let pattern, _, _): return operand.columnNames + pattern.columnNames
        case .caseWhen(let operand, let branches, let otherwise):
            return (operand?.columnNames ?? []) + branches.flatMap { $0.condition.columnNames + $0.result.columnNames }
                + (otherwise?.columnNames ?? [])
        }
    }
}
