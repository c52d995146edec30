/// A resolved, typed expression. Column references are positions in the chunk the expression
/// is evaluated over: for scan-level expressions that is the table's schema index, for
/// expressions above an aggregate it is the aggregate's output (group keys, then aggregates).
///
/// A class, not a struct, because execution caches per-node results (for example a predicate
/// evaluated once per dictionary entry) keyed by the node's identity.
final class BoundExpression: Sendable {
    indirect enum Kind {
        case column(Int)
        case constant(Value)
        case function(ScalarFunction, [BoundExpression])
        case and([BoundExpression])
        case or([BoundExpression])
        case not(BoundExpression)
        case isNull(BoundExpression, negated: Bool)
        /// Every list element already has the operand's type.
        case inList(BoundExpression, [BoundExpression], negated: Bool)
        case like(BoundExpression, pattern: BoundExpression, negated: Bool, caseInsensitive: Bool)
        /// Searched CASE; `otherwise` is a NULL constant when the SQL had no ELSE.
        case caseWhen([(condition: BoundExpression, result: BoundExpression)], otherwise: BoundExpression)
        /// Cast of the operand to `type`.
        case cast(BoundExpression)
    }

    let kind: Kind
    let type: LogicalType

    init(_ kind: Kind, type: LogicalType) {
        self.kind = kind
        self.type = type
    }

    static func constant(_ value: Value, type: LogicalType? = nil) -> BoundExpression {
        BoundExpression(.constant(value), type: type ?? value.type)
    }

    var children: [BoundExpression] {
        switch kind {
        case .column, .constant: return []
        case .function(_, let arguments): return arguments
        case .and(let terms), .or(let terms): return terms
        case .not(let operand), .isNull(let operand, _), .cast(let operand): return [operand]
        case .inList(let operand, let list, _): return [operand] + list
        case .like(let operand, let pattern, _, _): return [operand, pattern]
        case .caseWhen(let branches, let otherwise):
            return branches.flatMap { [$0.condition, $0.result] } + [otherwise]
        }
    }

    /// Every column position the expression reads.
    var referencedColumns: Set<Int> {
        if case .column(let index) = kind { return [index] }
        return children.reduce(into: Set<Int>()) { $0.formUnion($1.referencedColumns) }
    }

    var constantValue: Value? {
        if case .constant(let value) = kind { return value }
        return nil
    }

    /// A canonical text used to recognise equal expressions (GROUP BY matching, aggregate
    /// de-duplication) and to print plans.
    /// Computed on demand (not cached) so a prepared query can run on many threads at once.
    var key: String {
        switch kind {
        case .column(let index): return "#\(index)"
        case .constant(let value): return "\(value.sqlLiteral)::\(type.name)"
        case .function(let function, let arguments):
            return "\(function.name)(\(arguments.map(\.key).joined(separator: ", ")))"
        case .and(let terms): return "(" + terms.map(\.key).joined(separator: " AND ") + ")"
        case .or(let terms): return "(" + terms.map(\.key).joined(separator: " OR ") + ")"
        case .not(let operand): return "(NOT \(operand.key))"
        case .isNull(let operand, let negated): return "(\(operand.key) IS \(negated ? "NOT " : "")NULL)"
        case .inList(let operand, let list, let negated):
            return "(\(operand.key) \(negated ? "NOT " : "")IN (\(list.map(\.key).joined(separator: ", "))))"
        case .like(let operand, let pattern, let negated, let caseInsensitive):
            return "(\(operand.key) \(negated ? "NOT " : "")\(caseInsensitive ? "ILIKE" : "LIKE") \(pattern.key))"
        case .caseWhen(let branches, let otherwise):
            let whens = branches.map { "WHEN \($0.condition.key) THEN \($0.result.key)" }.joined(separator: " ")
            return "CASE \(whens) ELSE \(otherwise.key) END"
        case .cast(let operand): return "CAST(\(operand.key) AS \(type.name))"
        }
    }

    /// The expression with column positions replaced by names, for EXPLAIN.
    func describe(columnNames: (Int) -> String) -> String {
        switch kind {
        case .column(let index): return columnNames(index)
        case .constant(let value): return value.sqlLiteral
        case .function(let function, let arguments):
            let parts = arguments.map { $0.describe(columnNames: columnNames) }
            if let symbol = function.infixSymbol, parts.count == 2 { return "(\(parts[0]) \(symbol) \(parts[1]))" }
            return "\(function.name)(\(parts.joined(separator: ", ")))"
        case .and(let terms): return "(" + terms.map { $0.describe(columnNames: columnNames) }.joined(separator: " AND ") + ")"
        case .or(let terms): return "(" + terms.map { $0.describe(columnNames: columnNames) }.joined(separator: " OR ") + ")"
        case .not(let operand): return "(NOT \(operand.describe(columnNames: columnNames)))"
        case .isNull(let operand, let negated):
            return "(\(operand.describe(columnNames: columnNames)) IS \(negated ? "NOT " : "")NULL)"
        case .inList(let operand, let list, let negated):
            let items = list.map { $0.describe(columnNames: columnNames) }.joined(separator: ", ")
            return "(\(operand.describe(columnNames: columnNames)) \(negated ? "NOT " : "")IN (\(items)))"
        case .like(let operand, let pattern, let negated, let caseInsensitive):
            return "(\(operand.describe(columnNames: columnNames)) \(negated ? "NOT " : "")"
                + "\(caseInsensitive ? "ILIKE" : "LIKE") \(pattern.describe(columnNames: columnNames)))"
        case .caseWhen(let branches, let otherwise):
            let whens = branches.map {
                "WHEN \($0.condition.describe(columnNames: columnNames)) THEN \($0.result.describe(columnNames: columnNames))"
            }.joined(separator: " ")
            return "CASE \(whens) ELSE \(otherwise.describe(columnNames: columnNames)) END"
        case .cast(let operand): return "CAST(\(operand.describe(columnNames: columnNames)) AS \(type.name))"
        }
    }
}

/// Scalar functions and operators the evaluator implements.
enum ScalarFunction: Sendable, Hashable {
    case add, subtract, multiply, divide, modulo, negate
    case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual
    case concat
    case dateTrunc(DatePart)
    case lower, upper, length, substr, coalesce, jsonExtractString

    var name: String {
        switch self {
        case .add: return "+"
        case .subtract: return "-"
        case .multiply: return "*"
        case .divide: return "/"
        case .modulo: return "%"
        case .negate: return "-"
        case .equal: return "="
        case .notEqual: return "<>"
        case .less: return "<"
        case .lessOrEqual: return "<="
        case .greater: return ">"
        case .greaterOrEqual: return ">="
        case .concat: return "||"
        case .dateTrunc(let part): return "date_trunc_\(part.rawValue)"
        case .lower: return "lower"
        case .upper: return "upper"
        case .length: return "length"
        case .substr: return "substr"
        case .coalesce: return "coalesce"
        case .jsonExtractString: return "json_extract_string"
        }
    }

    var infixSymbol: String? {
        switch self {
        case .add, .subtract, .multiply, .divide, .modulo, .equal, .notEqual, .less, .lessOrEqual, .greater,
             .greaterOrEqual, .concat:
            return name
        default: return nil
        }
    }

    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: return true
        default: return false
        }
    }

    /// The comparison with its operands swapped: `a < b` is `b > a`.
    var flipped: ScalarFunction {
        switch self {
        case .less: return .greater
        case .lessOrEqual: return .greaterOrEqual
        case .greater: return .less
        case .greaterOrEqual: return .lessOrEqual
        default: return self
        }
    }
}

/// Units `date_trunc` accepts. Weeks start on Monday (ISO), like DuckDB.
enum DatePart: String, Sendable, Hashable, CaseIterable {
    case year, quarter, month, week, day, hour, minute, second
}

extension Value {
    /// The value written as a SQL literal.
    var sqlLiteral: String {
        switch self {
        case .null: return "NULL"
        case .int64(let value): return String(value)
        case .double(let value): return formatDouble(value)
        case .bool(let value): return value ? "true" : "false"
        case .string(let value): return "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
        case .timestamp(let micros): return "TIMESTAMP '\(formatTimestamp(micros, style: .sql))'"
        }
    }
}
