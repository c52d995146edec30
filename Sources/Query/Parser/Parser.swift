/// Recursive-descent parser for the SELECT subset of CONTRACT section 6.
///
/// In: SQL text. Out: a `Statement` (a SELECT, maybe under EXPLAIN), or a `QueryError` with
/// the position of the offending token and what was expected there. Statements and features
/// outside the subset (INSERT, JOIN, subqueries, window functions, CTEs, set operations) are
/// recognised by name and refused with a `.notSupported` error rather than a vague syntax error.
struct Parser {
    var tokens: [Token]
    var index = 0
    /// Current depth of expression recursion (`descend`).
    var nesting = 0

    /// Words that end an expression or clause, so they are never taken as a bare alias.
    static let reservedWords: Set<String> = [
        "SELECT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "ORDER", "LIMIT", "OFFSET", "AS", "AND", "OR",
        "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "BETWEEN", "CASE", "WHEN", "THEN", "ELSE", "END", "ON",
        "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "CROSS", "NATURAL", "UNION", "INTERSECT", "EXCEPT",
        "ASC", "DESC", "NULLS", "DISTINCT", "ALL", "WINDOW", "QUALIFY", "USING", "TRUE", "FALSE", "OVER",
        "WITH", "LATERAL", "POSITIONAL", "ASOF", "ANTI", "SEMI", "FETCH", "SAMPLE", "TABLESAMPLE", "PIVOT",
        "UNPIVOT", "ESCAPE",
    ]

    static let joinWords: Set<String> = [
        "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "CROSS", "NATURAL", "LATERAL", "POSITIONAL", "ASOF",
        "ANTI", "SEMI",
    ]

    init(sql: String) throws {
        tokens = try Lexer.tokenize(sql)
    }

    static func parse(_ sql: String) throws -> Statement {
        var parser = try Parser(sql: sql)
        return try parser.parseStatement()
    }

    // MARK: Token helpers

    var current: Token { tokens[index] }

    func peekToken(_ ahead: Int = 1) -> Token { tokens[min(index + ahead, tokens.count - 1)] }

    mutating func advance() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    func isKeyword(_ word: String) -> Bool { current.kind == .word && current.keyword == word }

    func isSymbol(_ symbol: String) -> Bool { current.kind == .symbol && current.text == symbol }

    mutating func acceptKeyword(_ word: String) -> Bool {
        if isKeyword(word) { _ = advance(); return true }
        return false
    }

    mutating func acceptSymbol(_ symbol: String) -> Bool {
        if isSymbol(symbol) { _ = advance(); return true }
        return false
    }

    mutating func expectKeyword(_ word: String, context: String) throws {
        guard acceptKeyword(word) else { throw unexpected(expected: "\(word) \(context)") }
    }

    mutating func expectSymbol(_ symbol: String, context: String) throws {
        guard acceptSymbol(symbol) else { throw unexpected(expected: "\"\(symbol)\" \(context)") }
    }

    /// A syntax error at the current token saying what was expected there.
    func unexpected(expected: String) -> QueryError {
        QueryError(.syntax, "syntax error at or near \(current.display): expected \(expected)", at: current.position)
    }

    func notSupported(_ feature: String, at position: SourcePosition? = nil) -> QueryError {
        QueryError(.notSupported, "\(feature) is not supported", at: position ?? current.position)
    }

    // MARK: Statements

    mutating func parseStatement() throws -> Statement {
        let explain = acceptKeyword("EXPLAIN")
        if explain { _ = acceptKeyword("ANALYZE") }
        guard current.kind == .word || isSymbol("(") else {
            throw unexpected(expected: "a SELECT statement")
        }
        if isSymbol("(") { throw notSupported("a parenthesized query") }
        switch current.keyword {
        case "SELECT":
            break
        case "WITH":
            throw notSupported("WITH (common table expressions)")
        case "FROM":
            throw notSupported("FROM-first syntax")
        case "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "COPY", "ATTACH", "DETACH", "PRAGMA", "SET",
             "RESET", "INSTALL", "LOAD", "CALL", "EXPORT", "IMPORT", "TRUNCATE", "MERGE", "VACUUM", "CHECKPOINT",
             "BEGIN", "COMMIT", "ROLLBACK", "USE", "GRANT", "REVOKE", "DESCRIBE", "SHOW", "SUMMARIZE", "PREPARE",
             "EXECUTE", "DEALLOCATE", "VALUES", "TABLE", "REPLACE", "UPSERT", "ANALYZE":
            throw QueryError(.notSupported,
                             "\(current.keyword) statements are not supported: the query surface is read-only "
                                 + "and only runs SELECT", at: current.position)
        default:
            throw unexpected(expected: "a SELECT statement")
        }
        let select = try parseSelect()
        _ = acceptSymbol(";")
        guard current.kind == .end else {
            if ["UNION", "INTERSECT", "EXCEPT"].contains(current.keyword) {
                throw notSupported("\(current.keyword) (set operations)")
            }
            if ["WINDOW", "QUALIFY"].contains(current.keyword) {
                throw notSupported("\(current.keyword) (window functions)")
            }
            if current.keyword == "FETCH" { throw notSupported("FETCH") }
            if select.from != nil, Parser.joinWords.contains(current.keyword) {
                throw notSupported("JOIN")
            }
            if tokens[index - 1].kind == .symbol && tokens[index - 1].text == ";" {
                throw QueryError(.notSupported, "multiple statements are not supported: send one SELECT",
                                 at: current.position)
            }
            throw unexpected(expected: "end of query")
        }
        return Statement(select: select, explain: explain)
    }

    mutating func parseSelect() throws -> SelectStatement {
        var select = SelectStatement(position: current.position)
        try expectKeyword("SELECT", context: "")
        if acceptKeyword("DISTINCT") {
            if isKeyword("ON") { throw notSupported("DISTINCT ON") }
            select.distinct = true
        } else {
            _ = acceptKeyword("ALL")
        }
        repeat {
            select.items.append(try parseSelectItem())
        } while acceptSymbol(",")

        if acceptKeyword("FROM") {
            select.from = try parseTableReference()
        }
        if acceptKeyword("WHERE") {
            select.whereClause = try parseExpression()
        }
        if acceptKeyword("GROUP") {
            try expectKeyword("BY", context: "after GROUP")
            if ["ROLLUP", "CUBE", "GROUPING"].contains(current.keyword) { throw notSupported(current.keyword) }
            if acceptKeyword("ALL") {
                select.groupByAll = true
            } else {
                repeat {
                    select.groupBy.append(try parseExpression())
                } while acceptSymbol(",")
            }
        }
        if acceptKeyword("HAVING") {
            select.having = try parseExpression()
        }
        if isKeyword("WINDOW") || isKeyword("QUALIFY") {
            throw notSupported("\(current.keyword) (window functions)")
        }
        if acceptKeyword("ORDER") {
            try expectKeyword("BY", context: "after ORDER")
            if isKeyword("ALL") {
                // ORDER BY ALL [ASC|DESC]: every select item, left to right (DuckDB).
                let position = advance().position
                var template = OrderItem(expression: Expr(kind: .literal(.null), position: position), descending: false,
                                         nullsFirst: nil)
                try parseOrderDirection(into: &template)
                select.orderByAll = template
            } else {
                repeat {
                    select.orderBy.append(try parseOrderItem())
                } while acceptSymbol(",")
            }
        }
        // DuckDB accepts LIMIT and OFFSET in either order.
        for _ in 0..<2 {
            if acceptKeyword("LIMIT") {
                guard select.limit == nil else { throw unexpected(expected: "one LIMIT") }
                select.limit = try parseCount(clause: "LIMIT")
            } else if acceptKeyword("OFFSET") {
                guard select.offset == nil else { throw unexpected(expected: "one OFFSET") }
                select.offset = try parseCount(clause: "OFFSET")
                _ = acceptKeyword("ROWS") || acceptKeyword("ROW")
            }
        }
        return select
    }

    mutating func parseCount(clause: String) throws -> Int {
        let token = current
        if token.kind == .symbol && token.text == "-" {
            throw QueryError(.syntax, "\(clause) must not be negative", at: token.position)
        }
        guard token.kind == .integer, let value = Int(token.text) else {
            if token.kind == .word && token.keyword == "ALL" && clause == "LIMIT" {
                _ = advance()
                return Int.max
            }
            throw unexpected(expected: "a non-negative integer after \(clause)")
        }
        _ = advance()
        return value
    }

    mutating func parseSelectItem() throws -> SelectItem {
        if isSymbol("*") {
            let position = advance().position
            try refuseStarModifiers()
            return SelectItem(expression: Expr(kind: .star(table: nil), position: position), alias: nil)
        }
        if current.kind == .word || current.kind == .quotedIdentifier, peekToken().kind == .symbol,
           peekToken().text == ".", peekToken(2).kind == .symbol, peekToken(2).text == "*" {
            let table = advance()
            _ = advance(); _ = advance()
            try refuseStarModifiers()
            return SelectItem(expression: Expr(kind: .star(table: table.text), position: table.position), alias: nil)
        }
        let expression = try parseExpression()
        return SelectItem(expression: expression, alias: try parseAlias())
    }

    mutating func refuseStarModifiers() throws {
        if ["EXCLUDE", "REPLACE", "RENAME", "COLUMNS"].contains(current.keyword) {
            throw notSupported("* \(current.keyword)")
        }
    }

    /// `[AS] name`, where a bare name must not be a reserved word.
    mutating func parseAlias() throws -> String? {
        if acceptKeyword("AS") {
            guard current.kind == .word || current.kind == .quotedIdentifier || current.kind == .string else {
                throw unexpected(expected: "an alias after AS")
            }
            return advance().text
        }
        if current.kind == .quotedIdentifier { return advance().text }
        if current.kind == .word && !Parser.reservedWords.contains(current.keyword) { return advance().text }
        return nil
    }

    mutating func parseTableReference() throws -> TableReference {
        let position = current.position
        if isSymbol("(") { throw notSupported("a subquery in FROM", at: position) }
        guard current.kind == .word || current.kind == .quotedIdentifier else {
            throw unexpected(expected: "a table name after FROM (events or sites)")
        }
        if current.kind == .word, Parser.reservedWords.contains(current.keyword) {
            throw unexpected(expected: "a table name after FROM (events or sites)")
        }
        var name = advance().text
        // schema-qualified names like main.events
        if acceptSymbol(".") {
            guard current.kind == .word || current.kind == .quotedIdentifier else {
                throw unexpected(expected: "a table name after \".\"")
            }
            name = advance().text
        }
        if isSymbol("(") { throw notSupported("the table function \(name)()", at: position) }
        var reference = TableReference(name: name, alias: nil, position: position)
        if !Parser.joinWords.contains(current.keyword) {
            reference.alias = try parseAlias()
        }
        if isSymbol(",") || Parser.joinWords.contains(current.keyword) {
            throw notSupported("JOIN (queries read one table)")
        }
        if isKeyword("TABLESAMPLE") || isKeyword("USING") && peekToken().keyword == "SAMPLE" {
            throw notSupported("sampling")
        }
        if isKeyword("PIVOT") || isKeyword("UNPIVOT") { throw notSupported(current.keyword) }
        return reference
    }

    mutating func parseOrderItem() throws -> OrderItem {
        let expression = try parseExpression()
        var item = OrderItem(expression: expression, descending: false, nullsFirst: nil)
        try parseOrderDirection(into: &item)
        return item
    }

    mutating func parseOrderDirection(into item: inout OrderItem) throws {
        if acceptKeyword("DESC") {
            item.descending = true
        } else {
            _ = acceptKeyword("ASC")
        }
        if acceptKeyword("NULLS") {
            if acceptKeyword("FIRST") {
                item.nullsFirst = true
            } else if acceptKeyword("LAST") {
                item.nullsFirst = false
            } else {
                throw unexpected(expected: "FIRST or LAST after NULLS")
            }
        }
    }
}
