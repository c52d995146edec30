// Binding of single expressions: names to positions, literals to values, operators to typed
// functions with DuckDB's implicit casts (numbers widen to DOUBLE; a string literal takes
// the type of what it is compared with).
extension Binder {
    mutating func bind(_ expr: Expr, _ context: Context) throws -> BoundExpression {
        // A name that is no column but a select alias means the aliased expression, as in
        // DuckDB (WHERE, GROUP BY, HAVING, ORDER BY expressions, later select items).
        if case .column(nil, let name) = expr.kind, schema.columnIndex(named: name) == nil {
            let lowered = name.lowercased()
            if let aliased = aliases[lowered], !aliasesBeingBound.contains(lowered) {
                if case .row(let clause) = context, aliased.containsAggregate {
                    throw QueryError(.binder, "\(clause) clause cannot refer to the aggregate alias \"\(name)\"",
                                     at: expr.position)
                }
                aliasesBeingBound.insert(lowered)
                defer { aliasesBeingBound.remove(lowered) }
                return try bind(aliased, context)
            }
        }
        if case .grouped(let clause) = context, !expr.containsAggregate, !refersToAggregateAlias(expr) {
            let bound = try bind(expr, .row(clause: clause))
            if let groupIndex = groups.firstIndex(where: { $0.key == bound.key }) {
                return BoundExpression(.column(groupIndex), type: bound.type)
            }
            if bound.referencedColumns.isEmpty { return bound }
            if case .column(_, let name) = expr.kind {
                throw QueryError(.binder, "column \"\(name)\" must appear in the GROUP BY clause or must be part of "
                                     + "an aggregate function. Either add it to the GROUP BY list, or use "
                                     + "\"ANY_VALUE(\(name))\" if the exact value of \"\(name)\" is not important.",
                                 at: expr.position)
            }
            // Not a group key as a whole: bind its parts, which may be group keys themselves.
        }
        switch expr.kind {
        case .column(let table, let name):
            return try bindColumn(table: table, name: name, at: expr.position, context)
        case .star:
            throw QueryError(.binder, "\"*\" is only allowed as a whole select item or in count(*)", at: expr.position)
        case .literal(let literal):
            return try bindLiteral(literal, at: expr.position)
        case .unary(let op, let operandExpr):
            let operand = try bind(operandExpr, context)
            switch op {
            case .not:
                return BoundExpression(.not(try requireBooleanOperand(operand, of: "NOT", at: operandExpr.position)),
                                       type: .boolean)
            case .plus:
                guard operand.type.isNumeric || operand.type == .null else {
                    throw noMatchingFunction("+", [operand.type], at: expr.position)
                }
                return operand
            case .negate:
                guard operand.type.isNumeric || operand.type == .null else {
                    throw noMatchingFunction("-", [operand.type], at: expr.position)
                }
                let type: LogicalType = operand.type == .null ? .bigint : operand.type
                return BoundExpression(.function(.negate, [operand]), type: type)
            }
        case .binary(let op, let leftExpr, let rightExpr):
            let left = try bind(leftExpr, context)
            let right = try bind(rightExpr, context)
            return try bindBinary(op, left, right, leftExpr: leftExpr, rightExpr: rightExpr, at: expr.position)
        case .isNull(let operandExpr, let negated):
            return BoundExpression(.isNull(try bind(operandExpr, context), negated: negated), type: .boolean)
        case .inList(let operandExpr, let listExprs, let negated):
            var operand = try bind(operandExpr, context)
            var list = try listExprs.map { try bind($0, context) }
            if list.isEmpty { return BoundExpression.constant(.bool(negated)) }
            // Unify every element with the operand, widening the operand at most once.
            var target = operand.type
            for element in list {
                target = try comparisonType(target, element.type, leftExpr: operand, rightExpr: element,
                                            at: expr.position)
            }
            operand = try coerce(operand, to: target, at: operandExpr.position)
            list = try zip(list, listExprs).map { try coerce($0.0, to: target, at: $0.1.position) }
            return BoundExpression(.inList(operand, list, negated: negated), type: .boolean)
        case .between(let operandExpr, let lowExpr, let highExpr, let negated):
            let operand = try bind(operandExpr, context)
            let low = try bind(lowExpr, context)
            let high = try bind(highExpr, context)
            let lower = try bindComparison(.greaterOrEqual, operand, low, at: expr.position)
            let upper = try bindComparison(.lessOrEqual, operand, high, at: expr.position)
            let both = BoundExpression(.and([lower, upper]), type: .boolean)
            return negated ? BoundExpression(.not(both), type: .boolean) : both
        case .like(let operandExpr, let patternExpr, let negated, let caseInsensitive):
            let operand = try coerce(try bind(operandExpr, context), to: .varchar, at: operandExpr.position,
                                     what: caseInsensitive ? "ILIKE" : "LIKE")
            let pattern = try coerce(try bind(patternExpr, context), to: .varchar, at: patternExpr.position,
                                     what: caseInsensitive ? "ILIKE" : "LIKE")
            return BoundExpression(.like(operand, pattern: pattern, negated: negated, caseInsensitive: caseInsensitive),
                                   type: .boolean)
        case .caseWhen(let operandExpr, let branchExprs, let otherwiseExpr):
            return try bindCase(operandExpr, branchExprs, otherwiseExpr, context, at: expr.position)
        case .cast(let operandExpr, let typeName):
            let operand = try bind(operandExpr, context)
            return try explicitCast(operand, to: typeName.type, at: typeName.position)
        case .function(let name, let arguments, let distinct, let isStar):
            return try bindCall(name: name, arguments: arguments, distinct: distinct, isStar: isStar,
                                at: expr.position, context)
        }
    }

    /// Whether a name in `expr` is a select alias of an aggregate expression.
    private func refersToAggregateAlias(_ expr: Expr) -> Bool {
        expr.columnNames.contains { name in
            schema.columnIndex(named: name) == nil && (aliases[name.lowercased()]?.containsAggregate ?? false)
        }
    }

    private mutating func bindColumn(table: String?, name: String, at position: SourcePosition,
                                     _ context: Context) throws -> BoundExpression {
        if let table { try checkQualifier(table, at: position) }
        if let index = schema.columnIndex(named: name) {
            return BoundExpression(.column(index), type: schema.columns[index].type)
        }
        if schema.columns.isEmpty {
            throw QueryError(.binder, "Referenced column \"\(name)\" not found: the query has no FROM clause",
                             at: position)
        }
        let suggestion = closestName(to: name, among: schema.columns.map(\.name)).map { " Did you mean \"\($0)\"?" } ?? ""
        throw QueryError(.binder, "Referenced column \"\(name)\" not found in FROM clause (table \(schema.name))!"
                             + suggestion, at: position)
    }

    private func bindLiteral(_ literal: Literal, at position: SourcePosition) throws -> BoundExpression {
        switch literal {
        case .null: return BoundExpression.constant(.null, type: .null)
        case .bool(let value): return BoundExpression.constant(.bool(value))
        case .string(let text): return BoundExpression.constant(.string(text))
        case .integer(let text):
            if let value = Int64(text) { return BoundExpression.constant(.int64(value)) }
            if let value = Double(text) { return BoundExpression.constant(.double(value)) }
            throw QueryError(.syntax, "malformed number \(text)", at: position)
        case .decimal(let text):
            guard let value = Double(text) else { throw QueryError(.syntax, "malformed number \(text)", at: position) }
            return BoundExpression.constant(.double(value))
        case .timestamp(let text):
            guard let micros = parseTimestamp(text) else {
                throw QueryError(.conversion, "invalid TIMESTAMP literal '\(text)': expected "
                                     + "'YYYY-MM-DD[ HH:MM:SS[.ffffff]]'", at: position)
            }
            return BoundExpression.constant(.timestamp(micros))
        }
    }

    private func requireBooleanOperand(_ operand: BoundExpression, of op: String, at position: SourcePosition) throws
        -> BoundExpression {
        if operand.type == .boolean { return operand }
        if operand.type == .null { return BoundExpression.constant(.null, type: .boolean) }
        if case .constant(.string(let text)) = operand.kind, let value = parseBoolean(text) {
            return BoundExpression.constant(.bool(value))
        }
        throw QueryError(.binder, "argument of \(op) must be BOOLEAN, got \(operand.type.name)", at: position)
    }

    private mutating func bindBinary(_ op: BinaryOperator, _ left: BoundExpression, _ right: BoundExpression,
                                     leftExpr: Expr, rightExpr: Expr, at position: SourcePosition) throws
        -> BoundExpression {
        switch op {
        case .and, .or:
            let l = try requireBooleanOperand(left, of: op.rawValue, at: leftExpr.position)
            let r = try requireBooleanOperand(right, of: op.rawValue, at: rightExpr.position)
            // Flatten chains so filters and pruning see one list of conjuncts.
            var terms: [BoundExpression] = []
            for term in [l, r] {
                switch (op, term.kind) {
                case (.and, .and(let inner)), (.or, .or(let inner)): terms += inner
                default: terms.append(term)
                }
            }
            return BoundExpression(op == .and ? .and(terms) : .or(terms), type: .boolean)
        case .equal, .notEqual, .less, .lessOrEqual, .greater, .greaterOrEqual:
            let function: ScalarFunction
            switch op {
            case .equal: function = .equal
            case .notEqual: function = .notEqual
            case .less: function = .less
            case .lessOrEqual: function = .lessOrEqual
            case .greater: function = .greater
            default: function = .greaterOrEqual
            }
            return try bindComparison(function, left, right, at: position)
        case .concat:
            let l = try coerceToText(left, at: leftExpr.position)
            let r = try coerceToText(right, at: rightExpr.position)
            return BoundExpression(.function(.concat, [l, r]), type: .varchar)
        case .add, .subtract, .multiply, .divide, .modulo:
            return try bindArithmetic(op, left, right, at: position)
        }
    }

    private func bindArithmetic(_ op: BinaryOperator, _ left: BoundExpression, _ right: BoundExpression,
                                at position: SourcePosition) throws -> BoundExpression {
        var l = left, r = right
        // A string literal or NULL takes the numeric type of the other side.
        if r.type.isNumeric, l.type == .null || l.constantValue?.type == .varchar { l = try coerce(l, to: r.type, at: position) }
        if l.type.isNumeric, r.type == .null || r.constantValue?.type == .varchar { r = try coerce(r, to: l.type, at: position) }
        if l.type == .null && r.type == .null {
            l = BoundExpression.constant(.null, type: .bigint)
            r = BoundExpression.constant(.null, type: .bigint)
        }
        guard l.type.isNumeric, r.type.isNumeric else {
            throw noMatchingFunction(op.rawValue, [left.type, right.type], at: position)
        }
        let function: ScalarFunction
        switch op {
        case .add: function = .add
        case .subtract: function = .subtract
        case .multiply: function = .multiply
        case .divide: function = .divide
        default: function = .modulo
        }
        // `/` is always float division (DuckDB); the others stay BIGINT for two BIGINTs.
        let resultType: LogicalType = (op == .divide || l.type == .double || r.type == .double) ? .double : .bigint
        let operandType: LogicalType = resultType
        return BoundExpression(.function(function, [try coerce(l, to: operandType, at: position),
                                                    try coerce(r, to: operandType, at: position)]),
                               type: resultType)
    }

    func bindComparison(_ function: ScalarFunction, _ left: BoundExpression, _ right: BoundExpression,
                        at position: SourcePosition) throws -> BoundExpression {
        let type = try comparisonType(left.type, right.type, leftExpr: left, rightExpr: right, at: position)
        return BoundExpression(.function(function, [try coerce(left, to: type, at: position),
                                                    try coerce(right, to: type, at: position)]),
                               type: .boolean)
    }

    /// The type two operands are compared in, or a binder error when they are not comparable.
    func comparisonType(_ leftType: LogicalType, _ rightType: LogicalType, leftExpr: BoundExpression,
                        rightExpr: BoundExpression, at position: SourcePosition) throws -> LogicalType {
        if leftType == rightType { return leftType }
        if leftType == .null { return rightType }
        if rightType == .null { return leftType }
        if leftType.isNumeric && rightType.isNumeric { return .double }
        if leftType == .varchar, leftExpr.constantValue != nil { return rightType }
        if rightType == .varchar, rightExpr.constantValue != nil { return leftType }
        throw QueryError(.binder, "Cannot compare values of type \(leftType.name) and type \(rightType.name) - "
                             + "an explicit cast is required", at: position)
    }

    private mutating func bindCase(_ operandExpr: Expr?, _ branchExprs: [(condition: Expr, result: Expr)],
                                   _ otherwiseExpr: Expr?, _ context: Context, at position: SourcePosition) throws
        -> BoundExpression {
        let operand = try operandExpr.map { try bind($0, context) }
        var conditions: [BoundExpression] = []
        var results: [BoundExpression] = []
        for branch in branchExprs {
            let condition = try bind(branch.condition, context)
            if let operand {
                conditions.append(try bindComparison(.equal, operand, condition, at: branch.condition.position))
            } else {
                conditions.append(try requireBooleanOperand(condition, of: "CASE WHEN", at: branch.condition.position))
            }
            results.append(try bind(branch.result, context))
        }
        let otherwise = try otherwiseExpr.map { try bind($0, context) } ?? BoundExpression.constant(.null, type: .null)
        let type = try unifiedType(results + [otherwise], what: "CASE branches", at: position)
        let branches = try zip(conditions, results).map { (condition: $0.0, result: try coerce($0.1, to: type, at: position)) }
        return BoundExpression(.caseWhen(branches, otherwise: try coerce(otherwise, to: type, at: position)), type: type)
    }

    /// One type all `expressions` can take (for CASE and coalesce): numbers widen to DOUBLE,
    /// NULL and string literals adapt.
    func unifiedType(_ expressions: [BoundExpression], what: String, at position: SourcePosition) throws -> LogicalType {
        var type = LogicalType.null
        for expression in expressions where expression.type != .null {
            if type == .null || type == expression.type {
                type = expression.type
            } else if type.isNumeric && expression.type.isNumeric {
                type = .double
            } else if expression.type == .varchar, expression.constantValue != nil {
                continue
            } else if type == .varchar,
                      expressions.filter({ $0.type == .varchar }).allSatisfy({ $0.constantValue != nil }) {
                type = expression.type
            } else {
                throw QueryError(.binder, "\(what) have incompatible types \(type.name) and \(expression.type.name) - "
                                     + "an explicit cast is required", at: position)
            }
        }
        return type
    }

    /// An implicit cast: NULL to anything, BIGINT to DOUBLE, a string literal to anything it parses as.
    func coerce(_ expr: BoundExpression, to type: LogicalType, at position: SourcePosition,
                what: String? = nil) throws -> BoundExpression {
        if expr.type == type || type == .null { return expr }
        if expr.type == .null {
            if case .constant = expr.kind { return BoundExpression.constant(.null, type: type) }
            return BoundExpression(.cast(expr), type: type)
        }
        if let value = expr.constantValue, case .string(let text) = value {
            return BoundExpression.constant(try castConstantString(text, to: type, at: position), type: type)
        }
        if expr.type == .bigint && type == .double { return BoundExpression(.cast(expr), type: .double) }
        throw QueryError(.binder, "\(what.map { "\($0): " } ?? "")cannot implicitly convert \(expr.type.name) to "
                             + "\(type.name) - an explicit cast is required", at: position)
    }

    func coerceToText(_ expr: BoundExpression, at position: SourcePosition) throws -> BoundExpression {
        if expr.type == .varchar { return expr }
        return try explicitCast(expr, to: .varchar, at: position)
    }

    func explicitCast(_ expr: BoundExpression, to type: LogicalType, at position: SourcePosition) throws
        -> BoundExpression {
        if expr.type == type { return expr }
        if let value = expr.constantValue {
            // Decimal literals are DECIMAL in DuckDB and round half away from zero; DOUBLE
            // values (columns) round half to even.
            return BoundExpression.constant(try castValue(value, to: type, at: position, literalRounding: true),
                                            type: type)
        }
        switch (expr.type, type) {
        case (.timestamp, .bigint), (.timestamp, .double), (.timestamp, .boolean), (.bigint, .timestamp),
             (.double, .timestamp), (.boolean, .timestamp):
            throw QueryError(.binder, "Unimplemented type for cast (\(expr.type.name) -> \(type.name))", at: position)
        default:
            return BoundExpression(.cast(expr), type: type)
        }
    }

    func castConstantString(_ text: String, to type: LogicalType, at position: SourcePosition) throws -> Value {
        try castValue(.string(text), to: type, at: position)
    }

    func noMatchingFunction(_ name: String, _ types: [LogicalType], at position: SourcePosition) -> QueryError {
        QueryError(.binder, "No function matches the given name and argument types '\(name)("
                       + types.map(\.name).joined(separator: ", ") + ")'. You might need to add explicit type casts.",
                   at: position)
    }
}

/// Casts one value, with DuckDB's conversion errors.
func castValue(_ value: Value, to type: LogicalType, at position: SourcePosition? = nil,
               literalRounding: Bool = false) throws -> Value {
    if value.isNull { return .null }
    func fail() -> QueryError {
        QueryError(.conversion, "Could not convert \(value.type.name) \(value.sqlLiteral) to \(type.name)", at: position)
    }
    switch (value, type) {
    case (_, .varchar): return .string(value.textForCast)
    case (.int64(let v), .bigint): return .int64(v)
    case (.int64(let v), .double): return .double(Double(v))
    case (.int64(let v), .boolean): return .bool(v != 0)
    case (.double(let v), .double): return .double(v)
    case (.double(let v), .bigint):
        let rounded = v.rounded(literalRounding ? .toNearestOrAwayFromZero : .toNearestOrEven)
        guard rounded.isFinite, rounded >= -9.223372036854775808e18, rounded < 9.223372036854775808e18 else {
            throw QueryError(.conversion, "Type DOUBLE with value \(formatDouble(v)) can't be cast because the value "
                                 + "is out of range for the destination type BIGINT", at: position)
        }
        return .int64(Int64(rounded))
    case (.double(let v), .boolean): return .bool(v != 0)
    case (.bool(let v), .boolean): return .bool(v)
    case (.bool(let v), .bigint): return .int64(v ? 1 : 0)
    case (.bool(let v), .double): return .double(v ? 1 : 0)
    case (.timestamp(let v), .timestamp): return .timestamp(v)
    case (.string(let text), .bigint):
        let trimmed = text.trimmingSpaces
        if let v = Int64(trimmed) { return .int64(v) }
        if let d = Double(trimmed), d.isFinite, d == d.rounded(), abs(d) < 9.2e18 { return .int64(Int64(d)) }
        throw QueryError(.conversion, "Could not convert string '\(text)' to INT64", at: position)
    case (.string(let text), .double):
        guard let v = Double(text.trimmingSpaces) else {
            throw QueryError(.conversion, "Could not convert string '\(text)' to DOUBLE", at: position)
        }
        return .double(v)
    case (.string(let text), .boolean):
        guard let v = parseBoolean(text) else {
            throw QueryError(.conversion, "Could not convert string '\(text)' to BOOL", at: position)
        }
        return .bool(v)
    case (.string(let text), .timestamp):
        guard let v = parseTimestamp(text) else {
            throw QueryError(.conversion, "invalid timestamp field format: \"\(text)\", expected format is "
                                 + "(YYYY-MM-DD HH:MM:SS[.US][±HH:MM])", at: position)
        }
        return .timestamp(v)
    default:
        throw fail()
    }
}

/// DuckDB's accepted spellings of booleans in casts.
func parseBoolean(_ text: String) -> Bool? {
    switch text.trimmingSpaces.lowercased() {
    case "true", "t", "1", "yes", "y", "on": return true
    case "false", "f", "0", "no", "n", "off": return false
    default: return nil
    }
}

extension Value {
    /// The VARCHAR a value casts to (DuckDB's spellings).
    var textForCast: String {
        switch self {
        case .null: return "NULL"
        case .int64(let v): return String(v)
        case .double(let v): return formatDouble(v)
        case .bool(let v): return v ? "true" : "false"
        case .string(let v): return v
        case .timestamp(let v): return formatTimestamp(v, style: .sql)
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" || first == "\n" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" || last == "\n" { scalars.removeLast() }
        return String(scalars)
    }
}
