import Core

/// Resolves a parsed SELECT against the catalog.
///
/// In: a `SelectStatement` and a `Catalog`. Out: a `BoundQuery` whose expressions are typed
/// and whose names are positions, or a `QueryError` naming the unknown table, column or
/// function, the type mismatch, or the misused aggregate (DuckDB's rules: in a grouped query
/// every column outside an aggregate must be a GROUP BY expression).
struct Binder {
    static let aggregateNames: Set<String> = ["count", "sum", "avg", "mean", "min", "max", "approx_count_distinct"]

    /// Where an expression is being bound; decides what names and aggregates mean there.
    enum Context: Equatable {
        /// Row-level clause (WHERE, GROUP BY, or a plain select list): aggregates refused.
        case row(clause: String)
        /// Inside an aggregate's argument: nested aggregates refused.
        case aggregateArgument
        /// Select list, HAVING or ORDER BY of a grouped query: columns must be group keys.
        case grouped(clause: String)
    }

    let catalog: any Catalog
    var schema = TableSchema(name: "", columns: [])
    var tableName: String?
    var tableAlias: String?
    /// Select items by alias, for GROUP BY / WHERE references to them (DuckDB allows both).
    var aliases: [String: Expr] = [:]
    var aliasesBeingBound: Set<String> = []
    var groups: [BoundExpression] = []
    var aggregates: [BoundAggregate] = []

    init(catalog: any Catalog) {
        self.catalog = catalog
    }

    mutating func bind(_ select: SelectStatement) throws -> BoundQuery {
        var source: (any ScanSource)?
        if let from = select.from {
            let name = from.name.lowercased()
            guard let table = try catalog.table(named: name) else {
                let suggestion = closestName(to: name, among: catalog.tableNames).map { " Did you mean \"\($0)\"?" } ?? ""
                throw QueryError(.catalog, "Table with name \(from.name) does not exist!\(suggestion) "
                                     + "Tables: \(catalog.tableNames.joined(separator: ", "))", at: from.position)
            }
            source = table
            schema = table.schema
            tableName = schema.name
            tableAlias = from.alias
        }

        let items = try expandStars(select.items)
        for item in items {
            if let alias = item.alias { aliases[alias.lowercased()] = item.expression }
        }

        var filter: BoundExpression?
        if let whereClause = select.whereClause {
            if whereClause.containsAggregate {
                throw QueryError(.binder, "WHERE clause cannot contain aggregates!", at: whereClause.position)
            }
            filter = try requireBoolean(try bind(whereClause, .row(clause: "WHERE")), clause: "WHERE",
                                        at: whereClause.position)
        }

        let isAggregate = !select.groupBy.isEmpty || select.groupByAll || items.contains { $0.expression.containsAggregate }
            || (select.having != nil) || select.orderBy.contains { $0.expression.containsAggregate }
        for groupExpr in select.groupBy {
            groups.append(try bindGroupExpression(groupExpr, items: items))
        }
        if select.groupByAll {
            for item in items where !item.expression.containsAggregate {
                let bound = try bind(item.expression, .row(clause: "GROUP BY"))
                if !bound.referencedColumns.isEmpty, !groups.contains(where: { $0.key == bound.key }) { groups.append(bound) }
            }
        }

        let selectContext: Context = isAggregate ? .grouped(clause: "SELECT") : .row(clause: "SELECT")
        var projections: [BoundExpression] = []
        var outputNames: [String] = []
        for item in items {
            projections.append(try bind(item.expression, selectContext))
            outputNames.append(item.alias ?? item.expression.displayName)
        }
        let visibleCount = projections.count

        var having: BoundExpression?
        if let havingExpr = select.having {
            having = try requireBoolean(try bind(havingExpr, .grouped(clause: "HAVING")), clause: "HAVING",
                                        at: havingExpr.position)
        }

        var orderBy: [SortKey] = []
        if let all = select.orderByAll {
            for column in 0..<visibleCount {
                orderBy.append(SortKey(column: column, descending: all.descending, nullsFirst: all.nullsFirst ?? false))
            }
        }
        for item in select.orderBy {
            let column = try bindOrderExpression(item.expression, items: items, outputNames: outputNames,
                                                 projections: &projections, visibleCount: visibleCount,
                                                 distinct: select.distinct, context: selectContext)
            orderBy.append(SortKey(column: column, descending: item.descending, nullsFirst: item.nullsFirst ?? false))
        }

        return BoundQuery(source: source, schema: schema, filter: filter, isAggregate: isAggregate, groups: groups,
                          aggregates: aggregates, having: having, projections: projections,
                          visibleCount: visibleCount, outputNames: outputNames, distinct: select.distinct,
                          orderBy: orderBy, limit: select.limit, offset: select.offset ?? 0)
    }

    private func expandStars(_ items: [SelectItem]) throws -> [SelectItem] {
        var expanded: [SelectItem] = []
        for item in items {
            guard case .star(let table) = item.expression.kind else {
                expanded.append(item)
                continue
            }
            if let table { try checkQualifier(table, at: item.expression.position) }
            guard !schema.columns.isEmpty else {
                throw QueryError(.binder, "SELECT * with no FROM clause: there are no columns to expand",
                                 at: item.expression.position)
            }
            for column in schema.columns {
                expanded.append(SelectItem(expression: Expr(kind: .column(table: nil, name: column.name),
                                                            position: item.expression.position), alias: nil))
            }
        }
        return expanded
    }

    /// GROUP BY accepts an ordinal (`GROUP BY 1`), a select alias, or any row expression.
    private mutating func bindGroupExpression(_ expr: Expr, items: [SelectItem]) throws -> BoundExpression {
        if case .literal(.integer(let text)) = expr.kind {
            guard let ordinal = Int(text), ordinal >= 1, ordinal <= items.count else {
                throw QueryError(.binder, "GROUP BY term out of range - should be between 1 and \(items.count)",
                                 at: expr.position)
            }
            let target = items[ordinal - 1].expression
            if target.containsAggregate {
                throw QueryError(.binder, "GROUP BY clause cannot contain aggregates! (GROUP BY \(ordinal) refers to "
                                     + "\(target.displayName))", at: expr.position)
            }
            return try bind(target, .row(clause: "GROUP BY"))
        }
        if expr.containsAggregate {
            throw QueryError(.binder, "GROUP BY clause cannot contain aggregates!", at: expr.position)
        }
        return try bind(expr, .row(clause: "GROUP BY"))
    }

    /// ORDER BY accepts an ordinal, an output name or alias, or an expression; an expression
    /// not in the select list becomes a hidden projection (refused under DISTINCT).
    private mutating func bindOrderExpression(_ expr: Expr, items: [SelectItem], outputNames: [String],
                                              projections: inout [BoundExpression], visibleCount: Int,
                                              distinct: Bool, context: Context) throws -> Int {
        if case .literal(.integer(let text)) = expr.kind {
            guard let ordinal = Int(text), ordinal >= 1, ordinal <= visibleCount else {
                throw QueryError(.binder, "ORDER term out of range - should be between 1 and \(visibleCount)",
                                 at: expr.position)
            }
            return ordinal - 1
        }
        if case .column(nil, let name) = expr.kind {
            if let index = items.firstIndex(where: { $0.alias?.lowercased() == name.lowercased() }) { return index }
        }
        let bound = try bind(expr, context)
        if let index = projections.prefix(visibleCount).firstIndex(where: { $0.key == bound.key }) { return index }
        if distinct {
            throw QueryError(.binder, "for SELECT DISTINCT, ORDER BY expressions must appear in select list "
                                 + "(\(expr.displayName) does not)", at: expr.position)
        }
        if let index = projections.indices.dropFirst(visibleCount).first(where: { projections[$0].key == bound.key }) {
            return index
        }
        projections.append(bound)
        return projections.count - 1
    }

    private func requireBoolean(_ expr: BoundExpression, clause: String, at position: SourcePosition) throws
        -> BoundExpression {
        if expr.type == .boolean { return expr }
        if expr.type == .null { return BoundExpression.constant(.null, type: .boolean) }
        throw QueryError(.binder, "\(clause) clause must be a BOOLEAN expression, got \(expr.type.name)", at: position)
    }

    func checkQualifier(_ qualifier: String, at position: SourcePosition) throws {
        let lowered = qualifier.lowercased()
        // Like DuckDB, an alias replaces the table name as qualifier.
        if let tableAlias {
            if lowered == tableAlias.lowercased() { return }
        } else if let tableName, lowered == tableName {
            return
        }
        throw QueryError(.binder, "Referenced table \"\(qualifier)\" not found! Candidate tables: "
                             + "\"\(tableAlias ?? tableName ?? "none")\"", at: position)
    }
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a typo.
func closestName(to name: String, among candidates: [String]) -> String? {
    let target = Array(name.lowercased())
    var best: (String, Int)?
    for candidate in candidates {
        let distance = editDistance(target, Array(candidate.lowercased()))
        if distance <= max(2, target.count / 3), distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
    }
    return best?.0
}

private func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
