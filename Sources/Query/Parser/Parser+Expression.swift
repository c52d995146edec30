// Expression grammar, lowest precedence first (PostgreSQL/DuckDB order):
//   OR < AND < NOT < comparison, IS, BETWEEN, IN, LIKE < || < + - < * / % < unary - < :: < primary
extension Parser {
    /// Parser recursion allowed in one expression: parentheses, function calls, CASE, NOT and
    /// signs inside each other. Each level costs about a dozen stack frames in the parser
    /// (~20 KB in a debug build, where 400–470 levels overflow a worker thread's stack), so a
    /// hostile query is refused long before that; real SQL nests a few dozen levels at most.
    static let nestingMax = 256
    /// Height of one expression tree (DuckDB's default `max_expression_depth`). Chains such as
    /// `a + b + …` or `x = 1 OR x = 2 OR …` are parsed by loops, not recursion, but build trees
    /// as tall as they are long, which the binder, the executor and even freeing the tree walk
    /// recursively. 1,000 levels of that run in a debug build with room to spare.
    static let expressionDepthMax = 1000

    mutating func parseExpression() throws -> Expr {
        try descend()
        defer { nesting -= 1 }
        return try checked(parseOr())
    }

    /// One more level of parser recursion, refused past `nestingMax`.
    mutating func descend() throws {
        nesting += 1
        if nesting > Self.nestingMax {
            throw QueryError(.syntax, "the expression nests deeper than \(Self.nestingMax) levels (parentheses, function "
                             + "calls, CASE or NOT inside each other); simplify it", at: current.position)
        }
    }

    /// `expression`, unless its tree grew taller than `expressionDepthMax`.
    func checked(_ expression: Expr) throws -> Expr {
        guard expression.height <= Self.expressionDepthMax else {
            throw QueryError(.syntax, "the expression is more than \(Self.expressionDepthMax) operators deep (a chain like "
                             + "a + b + … or x = 1 OR x = 2 OR …); use IN (…) for long OR lists, or simplify it",
                             at: expression.position)
        }
        return expression
    }

    mutating func parseOr() throws -> Expr {
        var left = try parseAnd()
        while isKeyword("OR") {
            left = try checked(left)
            let position = advance().position
            let right = try parseAnd()
            left = Expr(kind: .binary(.or, left, right), position: position)
        }
        return left
    }

    mutating func parseAnd() throws -> Expr {
        var left = try parseNot()
        while isKeyword("AND") {
            left = try checked(left)
            let position = advance().position
            let right = try parseNot()
            left = Expr(kind: .binary(.and, left, right), position: position)
        }
        return left
    }

    mutating func parseNot() throws -> Expr {
        if isKeyword("NOT") {
            try descend()
            defer { nesting -= 1 }
            let position = advance().position
            return Expr(kind: .unary(.not, try parseNot()), position: position)
        }
        return try parseComparison()
    }

    mutating func parseComparison() throws -> Expr {
        var left = try parseConcat()
        while true {
            left = try checked(left)
            let position = current.position
            if current.kind == .symbol, let op = comparisonOperator(current.text) {
                _ = advance()
                if ["ANY", "ALL", "SOME"].contains(current.keyword) { throw notSupported("\(current.keyword) (subqueries)") }
                let right = try parseConcat()
                left = Expr(kind: .binary(op, left, right), position: position)
                continue
            }
            if acceptKeyword("IS") {
                let negated = acceptKeyword("NOT")
                if acceptKeyword("NULL") {
                    left = Expr(kind: .isNull(left, negated: negated), position: position)
                    continue
                }
                if acceptKeyword("DISTINCT") {
                    try expectKeyword("FROM", context: "after IS [NOT] DISTINCT")
                    let right = try parseConcat()
                    left = nullSafeComparison(left, right, distinct: !negated, at: position)
                    continue
                }
                if isKeyword("TRUE") || isKeyword("FALSE") {
                    // x IS TRUE is never NULL: coalesce(x = TRUE, FALSE)
                    let value = advance().keyword == "TRUE"
                    let literal = Expr(kind: .literal(.bool(value)), position: position)
                    let equal = Expr(kind: .binary(.equal, left, literal), position: position)
                    let falseLiteral = Expr(kind: .literal(.bool(false)), position: position)
                    var test = Expr(kind: .function(name: "coalesce", arguments: [equal, falseLiteral],
                                                    distinct: false, isStar: false), position: position)
                    if negated { test = Expr(kind: .unary(.not, test), position: position) }
                    left = test
                    continue
                }
                throw unexpected(expected: "NULL, NOT NULL, TRUE or FALSE after IS")
            }
            if acceptKeyword("ISNULL") {
                left = Expr(kind: .isNull(left, negated: false), position: position)
                continue
            }
            if acceptKeyword("NOTNULL") {
                left = Expr(kind: .isNull(left, negated: true), position: position)
                continue
            }
            var negated = false
            if isKeyword("NOT"), ["IN", "BETWEEN", "LIKE", "ILIKE", "SIMILAR", "GLOB"].contains(peekToken().keyword) {
                _ = advance()
                negated = true
            }
            if acceptKeyword("IN") {
                try expectSymbol("(", context: "after IN")
                if isKeyword("SELECT") { throw notSupported("a subquery in IN") }
                var values: [Expr] = []
                if !isSymbol(")") {
                    repeat { values.append(try parseExpression()) } while acceptSymbol(",")
                }
                try expectSymbol(")", context: "to close the IN list")
                left = Expr(kind: .inList(left, values, negated: negated), position: position)
                continue
            }
            if acceptKeyword("BETWEEN") {
                if isKeyword("SYMMETRIC") { throw notSupported("BETWEEN SYMMETRIC") }
                let low = try parseConcat()
                try expectKeyword("AND", context: "in BETWEEN ... AND ...")
                let high = try parseConcat()
                left = Expr(kind: .between(left, low: low, high: high, negated: negated), position: position)
                continue
            }
            if isKeyword("LIKE") || isKeyword("ILIKE") {
                let caseInsensitive = advance().keyword == "ILIKE"
                let pattern = try parseConcat()
                if isKeyword("ESCAPE") { throw notSupported("LIKE ... ESCAPE") }
                left = Expr(kind: .like(left, pattern: pattern, negated: negated, caseInsensitive: caseInsensitive),
                            position: position)
                continue
            }
            if isKeyword("SIMILAR") || isKeyword("GLOB") { throw notSupported(current.keyword) }
            if negated { throw unexpected(expected: "IN, BETWEEN, LIKE or ILIKE after NOT") }
            return left
        }
    }

    /// `a IS [NOT] DISTINCT FROM b`, written with CASE so NULLs compare as values:
    /// CASE WHEN a IS NULL THEN b IS NULL WHEN b IS NULL THEN FALSE ELSE a = b END (negated for DISTINCT).
    func nullSafeComparison(_ left: Expr, _ right: Expr, distinct: Bool, at position: SourcePosition) -> Expr {
        func node(_ kind: Expr.Kind) -> Expr { Expr(kind: kind, position: position) }
        let same = node(.caseWhen(operand: nil, branches: [
            (node(.isNull(left, negated: false)), node(.isNull(right, negated: false))),
            (node(.isNull(right, negated: false)), node(.literal(.bool(false)))),
        ], otherwise: node(.binary(.equal, left, right))))
        return distinct ? node(.unary(.not, same)) : same
    }

    func comparisonOperator(_ text: String) -> BinaryOperator? {
        switch text {
        case "=": return .equal
        case "<>", "!=": return .notEqual
        case "<": return .less
        case "<=": return .lessOrEqual
        case ">": return .greater
        case ">=": return .greaterOrEqual
        default: return nil
        }
    }

    mutating func parseConcat() throws -> Expr {
        var left = try parseAdditive()
        while isSymbol("||") {
            left = try checked(left)
            let position = advance().position
            left = Expr(kind: .binary(.concat, left, try parseAdditive()), position: position)
        }
        return left
    }

    mutating func parseAdditive() throws -> Expr {
        var left = try parseMultiplicative()
        while isSymbol("+") || isSymbol("-") {
            left = try checked(left)
            let token = advance()
            let op: BinaryOperator = token.text == "+" ? .add : .subtract
            left = Expr(kind: .binary(op, left, try parseMultiplicative()), position: token.position)
        }
        return left
    }

    mutating func parseMultiplicative() throws -> Expr {
        var left = try parseUnary()
        while isSymbol("*") || isSymbol("/") || isSymbol("%") {
            left = try checked(left)
            let token = advance()
            let op: BinaryOperator = token.text == "*" ? .multiply : (token.text == "/" ? .divide : .modulo)
            left = Expr(kind: .binary(op, left, try parseUnary()), position: token.position)
        }
        return left
    }

    mutating func parseUnary() throws -> Expr {
        if isSymbol("-") || isSymbol("+") {
            try descend()
            defer { nesting -= 1 }
            let token = advance()
            let operand = try parseUnary()
            // Fold the sign into numeric literals so -9223372036854775808 is representable. As in
            // DuckDB, `-(-5)` and `- -5` fold to the literal 5 (named "5", and an ordinal in
            // ORDER BY / GROUP BY), while `+5` stays an operator applied to a constant.
            if token.text == "-", case .literal(let literal) = operand.kind {
                switch literal {
                case .integer(let digits):
                    return Expr(kind: .literal(.integer(Self.negated(digits))), position: token.position)
                case .decimal(let digits):
                    return Expr(kind: .literal(.decimal(Self.negated(digits))), position: token.position)
                default: break
                }
            }
            return Expr(kind: .unary(token.text == "-" ? .negate : .plus, operand), position: token.position)
        }
        return try parsePostfix()
    }

    /// The text of a numeric literal with its sign flipped: "5" → "-5", "-5" → "5". Prepending
    /// a second "-" made `-(-5)` the malformed number "--5".
    static func negated(_ digits: String) -> String {
        digits.hasPrefix("-") ? String(digits.dropFirst()) : "-" + digits
    }

    mutating func parsePostfix() throws -> Expr {
        var expression = try parsePrimary()
        while isSymbol("::") || isSymbol("[") {
            expression = try checked(expression)
            if isSymbol("[") { throw notSupported("subscripts ([...])") }
            let position = advance().position
            expression = Expr(kind: .cast(expression, try parseTypeName()), position: position)
        }
        return expression
    }

    mutating func parseTypeName() throws -> TypeName {
        let token = current
        guard token.kind == .word || token.kind == .quotedIdentifier else {
            throw unexpected(expected: "a type name (VARCHAR, BIGINT, DOUBLE, BOOLEAN or TIMESTAMP)")
        }
        _ = advance()
        let type: LogicalType
        switch token.text.uppercased() {
        case "VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR": type = .varchar
        case "BIGINT", "INTEGER", "INT", "INT8", "INT4", "INT64", "LONG", "SMALLINT", "INT2", "TINYINT", "INT1":
            type = .bigint
        case "DOUBLE", "FLOAT", "FLOAT8", "FLOAT4", "REAL", "NUMERIC", "DECIMAL": type = .double
        case "BOOLEAN", "BOOL", "LOGICAL": type = .boolean
        case "TIMESTAMP", "DATETIME":
            type = .timestamp
            if isKeyword("WITH") || isKeyword("WITHOUT") { throw notSupported("TIMESTAMP WITH/WITHOUT TIME ZONE") }
        default:
            throw QueryError(.notSupported,
                             "type \(token.text.uppercased()) is not supported: use VARCHAR, BIGINT, DOUBLE, BOOLEAN "
                                 + "or TIMESTAMP", at: token.position)
        }
        // VARCHAR(255), DECIMAL(18,3): the parameters do not change our types.
        if acceptSymbol("(") {
            while !isSymbol(")") {
                guard current.kind != .end else { throw unexpected(expected: "\")\" to close the type parameters") }
                _ = advance()
            }
            _ = advance()
        }
        if isSymbol("[") { throw notSupported("array types") }
        return TypeName(type: type, position: token.position)
    }

    mutating func parsePrimary() throws -> Expr {
        let token = current
        let position = token.position
        switch token.kind {
        case .integer:
            _ = advance()
            return Expr(kind: .literal(.integer(token.text)), position: position)
        case .decimal:
            _ = advance()
            return Expr(kind: .literal(.decimal(token.text)), position: position)
        case .string:
            _ = advance()
            return Expr(kind: .literal(.string(token.text)), position: position)
        case .quotedIdentifier:
            return try parseNameOrCall()
        case .symbol:
            if token.text == "(" {
                _ = advance()
                if isKeyword("SELECT") || isKeyword("WITH") { throw notSupported("subqueries", at: current.position) }
                let inner = try parseExpression()
                if isSymbol(",") { throw notSupported("row values (tuples)") }
                try expectSymbol(")", context: "to close the parenthesis")
                return inner
            }
            if token.text == "*" {
                throw QueryError(.syntax, "\"*\" is only allowed as a whole select item or in count(*)", at: position)
            }
            throw unexpected(expected: "an expression")
        case .end:
            throw unexpected(expected: "an expression")
        case .word:
            break
        }
        switch token.keyword {
        case "NULL":
            _ = advance()
            return Expr(kind: .literal(.null), position: position)
        case "TRUE", "FALSE":
            _ = advance()
            return Expr(kind: .literal(.bool(token.keyword == "TRUE")), position: position)
        case "TIMESTAMP", "DATETIME":
            if peekToken().kind == .string {
                _ = advance()
                return Expr(kind: .literal(.timestamp(advance().text)), position: position)
            }
        case "DATE", "TIME", "INTERVAL", "TIMESTAMPTZ":
            if peekToken().kind == .string { throw notSupported("\(token.keyword) literals (use TIMESTAMP '...')") }
        case "CAST", "TRY_CAST":
            if peekToken().kind == .symbol && peekToken().text == "(" {
                if token.keyword == "TRY_CAST" { throw notSupported("TRY_CAST") }
                _ = advance(); _ = advance()
                let operand = try parseExpression()
                try expectKeyword("AS", context: "in CAST(... AS type)")
                let type = try parseTypeName()
                try expectSymbol(")", context: "to close CAST")
                return Expr(kind: .cast(operand, type), position: position)
            }
        case "CASE":
            return try parseCase()
        case "EXISTS":
            throw notSupported("EXISTS (subqueries)")
        default:
            if Parser.reservedWords.contains(token.keyword) {
                throw unexpected(expected: "an expression")
            }
        }
        return try parseNameOrCall()
    }

    mutating func parseCase() throws -> Expr {
        let position = advance().position
        var operand: Expr?
        if !isKeyword("WHEN") { operand = try parseExpression() }
        var branches: [(condition: Expr, result: Expr)] = []
        while acceptKeyword("WHEN") {
            let condition = try parseExpression()
            try expectKeyword("THEN", context: "after the WHEN condition")
            branches.append((condition, try parseExpression()))
        }
        guard !branches.isEmpty else { throw unexpected(expected: "WHEN in CASE") }
        var otherwise: Expr?
        if acceptKeyword("ELSE") { otherwise = try parseExpression() }
        try expectKeyword("END", context: "to close CASE")
        return Expr(kind: .caseWhen(operand: operand, branches: branches, otherwise: otherwise), position: position)
    }

    mutating func parseNameOrCall() throws -> Expr {
        let first = advance()
        let position = first.position
        if isSymbol("(") {
            return try parseCall(name: first.text, position: position)
        }
        if acceptSymbol(".") {
            guard current.kind == .word || current.kind == .quotedIdentifier else {
                throw unexpected(expected: "a column name after \"\(first.text).\"")
            }
            let second = advance()
            if isSymbol("(") { throw notSupported("qualified function names", at: position) }
            if isSymbol(".") { throw unexpected(expected: "table.column (at most one qualifier)") }
            return Expr(kind: .column(table: first.text, name: second.text), position: position)
        }
        return Expr(kind: .column(table: nil, name: first.text), position: position)
    }

    mutating func parseCall(name: String, position: SourcePosition) throws -> Expr {
        try expectSymbol("(", context: "")
        var arguments: [Expr] = []
        var distinct = false
        var isStar = false
        if isSymbol("*") {
            _ = advance()
            isStar = true
        } else if !isSymbol(")") {
            if acceptKeyword("DISTINCT") { distinct = true } else { _ = acceptKeyword("ALL") }
            repeat {
                if isKeyword("SELECT") { throw notSupported("subqueries", at: current.position) }
                arguments.append(try parseExpression())
            } while acceptSymbol(",")
        }
        if isKeyword("ORDER") { throw notSupported("ORDER BY inside an aggregate") }
        try expectSymbol(")", context: "to close the arguments of \(name)()")
        if isKeyword("FILTER") { throw notSupported("aggregate FILTER clauses") }
        if isKeyword("OVER") { throw notSupported("window functions (OVER)") }
        if isKeyword("WITHIN") { throw notSupported("WITHIN GROUP") }
        return Expr(kind: .function(name: name, arguments: arguments, distinct: distinct, isStar: isStar),
                    position: position)
    }
}
