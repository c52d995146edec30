// The syntax tree the parser produces. Nothing here is resolved: names are strings and
// types are unknown until the binder looks at them.

/// A parsed expression with the position of its first token.
struct Expr: Sendable {
    indirect enum Kind: Sendable {
        /// `name` or `table.name`.
        case column(table: String?, name: String)
        /// `*` or `table.*` in a select list.
        case star(table: String?)
        case literal(Literal)
        case unary(UnaryOperator, Expr)
        case binary(BinaryOperator, Expr, Expr)
        case isNull(Expr, negated: Bool)
        case inList(Expr, [Expr], negated: Bool)
        case between(Expr, low: Expr, high: Expr, negated: Bool)
        case like(Expr, pattern: Expr, negated: Bool, caseInsensitive: Bool)
        /// Searched CASE has `operand == nil`; simple CASE compares `operand` with each WHEN.
        case caseWhen(operand: Expr?, branches: [(condition: Expr, result: Expr)], otherwise: Expr?)
        case cast(Expr, TypeName)
        /// A function or aggregate call; `count(*)` has `isStar`.
        case function(name: String, arguments: [Expr], distinct: Bool, isStar: Bool)
    }

    var kind: Kind
    var position: SourcePosition
    /// Levels of the tree rooted here (a leaf is 1). The parser refuses trees taller than
    /// `Parser.expressionDepthMax`: binding, evaluating and even freeing a tree recurse once
    /// per level, so a 100,000-deep expression would overflow the stack.
    let height: Int

    init(kind: Kind, position: SourcePosition) {
        self.kind = kind
        self.position = position
        self.height = 1 + kind.childHeightMax
    }
}

extension Expr.Kind {
    /// The tallest child's height (0 for a leaf): children's heights are stored, so this is
    /// O(children), never a walk of the tree.
    var childHeightMax: Int {
        switch self {
        case .column, .star, .literal: return 0
        case .unary(_, let operand), .isNull(let operand, _), .cast(let operand, _): return operand.height
        case .binary(_, let left, let right): return max(left.height, right.height)
        case .inList(let operand, let values, _): return values.reduce(operand.height) { max($0, $1.height) }
        case .between(let operand, let low, let high, _): return max(operand.height, low.height, high.height)
        case .like(let operand, let pattern, _, _): return max(operand.height, pattern.height)
        case .caseWhen(let operand, let branches, let otherwise):
            var tallest = max(operand?.height ?? 0, otherwise?.height ?? 0)
            for branch in branches { tallest = max(tallest, branch.condition.height, branch.result.height) }
            return tallest
        case .function(_, let arguments, _, _): return arguments.reduce(0) { max($0, $1.height) }
        }
    }
}

enum Literal: Sendable {
    case null
    case bool(Bool)
    case integer(String)
    case decimal(String)
    case string(String)
    /// `TIMESTAMP '...'`
    case timestamp(String)
}

enum UnaryOperator: String, Sendable {
    case negate = "-"
    case plus = "+"
    case not = "NOT"
}

enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", modulo = "%", concat = "||"
    case equal = "=", notEqual = "<>", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case and = "AND", or = "OR"

    var isComparison: Bool {
        switch self {
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual: return true
        default: return false
        }
    }
}

/// A type named in CAST or `::`.
struct TypeName: Sendable {
    var type: LogicalType
    var position: SourcePosition
}

struct SelectItem: Sendable {
    var expression: Expr
    var alias: String?
}

struct OrderItem: Sendable {
    var expression: Expr
    var descending: Bool
    /// nil = the default (DuckDB: NULLS LAST for both ASC and DESC).
    var nullsFirst: Bool?
}

struct TableReference: Sendable {
    var name: String
    var alias: String?
    var position: SourcePosition
}

struct SelectStatement: Sendable {
    var distinct = false
    var items: [SelectItem] = []
    /// nil for `SELECT 1` without FROM.
    var from: TableReference?
    var whereClause: Expr?
    var groupBy: [Expr] = []
    /// `GROUP BY ALL`: group by every select item without an aggregate (DuckDB).
    var groupByAll = false
    var having: Expr?
    var orderBy: [OrderItem] = []
    /// `ORDER BY ALL`: every select item in this direction (expression unused).
    var orderByAll: OrderItem?
    var limit: Int?
    var offset: Int?
    var position: SourcePosition
}

struct Statement: Sendable {
    var select: SelectStatement
    var explain: Bool
}
