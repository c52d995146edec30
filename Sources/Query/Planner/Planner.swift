import Core

/// Turns a bound query into a plan.
///
/// In: a `BoundQuery` and the access scope. Out: a `QueryPlan` where
/// 1. the scope's mandatory predicate (`project_id = 'X'`) is ANDed below the user's WHERE,
/// 2. constant sub-expressions are folded (so `'2026-01-01'::TIMESTAMP` is a constant),
/// 3. units whose partition values or min/max/null statistics prove that no row can pass the
///    filter are pruned (=, <>, <, <=, >, >=, BETWEEN, IN, IS [NOT] NULL, under AND/OR),
/// 4. only referenced columns are read, filter columns first (late materialisation),
/// 5. a query that reads no column — `count(*)` alone, no GROUP BY, a filter (if any) that
///    partition values prove true or false for every file — counts the rows the log records
///    per file (`ScanSource.rowCountUnits`) without opening one.
struct Planner {
    let scope: AccessScope
    /// Step 5; off only to compare answers in tests.
    var rowCountsFromLog = true

    func plan(_ query: BoundQuery) throws -> QueryPlan {
        var query = query
        let folder = ConstantFolder()
        var terms: [BoundExpression] = []
        if let projectID = scope.projectID, query.source != nil {
            guard let column = query.schema.columnIndex(named: "project_id") else {
                throw QueryError(.binder, "table \(query.schema.name) has no project_id column to restrict access by")
            }
            terms.append(BoundExpression(.function(.equal, [BoundExpression(.column(column), type: .varchar),
                                                            BoundExpression.constant(.string(projectID))]),
                                         type: .boolean))
        }
        if let userFilter = query.filter {
            let folded = try folder.fold(userFilter)
            if case .and(let inner) = folded.kind { terms += inner } else { terms.append(folded) }
        }
        let filter: BoundExpression? = terms.isEmpty ? nil
            : (terms.count == 1 ? terms[0] : BoundExpression(.and(terms), type: .boolean))

        query.groups = try query.groups.map(folder.fold)
        for index in query.aggregates.indices {
            query.aggregates[index].argument = try query.aggregates[index].argument.map(folder.fold)
        }
        query.having = try query.having.map(folder.fold)
        query.projections = try query.projections.map(folder.fold)

        var units: [any ScanUnit] = []
        var pruned: [(name: String, reason: String)] = []
        var filterTrueUnits = Set<String>()
        var unitsTotal = 0
        if let source = query.source {
            let pruner = UnitPruner(schema: query.schema)
            func select(_ all: [any ScanUnit]) {
                units = []
                pruned = []
                filterTrueUnits = []
                unitsTotal = all.count
                for unit in all {
                    if let filter, let reason = pruner.pruneReason(filter, unit) {
                        pruned.append((unit.name, reason))
                    } else {
                        if let filter, pruner.isAlwaysTrue(filter, unit) { filterTrueUnits.insert(unit.name) }
                        units.append(unit)
                    }
                }
            }
            do {
                // Step 5, kept only when every file left passes the filter whole.
                let countsOnly = rowCountsFromLog && query.isAggregate && query.groups.isEmpty && !query.aggregates.isEmpty
                    && query.aggregates.allSatisfy { $0.kind == .countStar && $0.argument == nil && !$0.distinct }
                if countsOnly, let counted = try source.rowCountUnits(projectID: scope.projectID) {
                    select(counted)
                    if filter == nil || units.allSatisfy({ filterTrueUnits.contains($0.name) }) {
                        return finish(query, filter: filter, units: units, pruned: pruned, unitsTotal: unitsTotal, filterTrueUnits: filterTrueUnits)
                    }
                }
                select(try source.scanUnits(projectID: scope.projectID))
            } catch let error as QueryError {
                throw error
            } catch {
                throw QueryError(.io, "listing the scan units of \(query.schema.name) failed: \(error)")
            }
        }

        if query.source == nil {
            // SELECT without FROM reads one row of no columns.
            units = [InMemoryScanUnit(name: "(no table)", rowCount: 1, columns: [:])]
            unitsTotal = 1
        }
        return finish(query, filter: filter, units: units, pruned: pruned, unitsTotal: unitsTotal, filterTrueUnits: filterTrueUnits)
    }

    /// Steps 4 and on, over the units chosen.
    private func finish(_ query: BoundQuery, filter: BoundExpression?, units: [any ScanUnit], pruned: [(name: String, reason: String)],
                        unitsTotal: Int, filterTrueUnits: Set<String>) -> QueryPlan {

        var needed = Set<Int>()
        if !query.isAggregate {
            for projection in query.projections { needed.formUnion(projection.referencedColumns) }
        }
        for group in query.groups { needed.formUnion(group.referencedColumns) }
        for aggregate in query.aggregates { needed.formUnion(aggregate.argument?.referencedColumns ?? []) }
        let filterColumns = (filter?.referencedColumns ?? []).sorted()
        let otherColumns = needed.subtracting(filterColumns).sorted()

        var scanRowsMax: Int?
        if !query.isAggregate, !query.distinct, query.orderBy.isEmpty, let limit = query.limit {
            let (sum, overflow) = limit.addingReportingOverflow(query.offset)
            scanRowsMax = overflow ? nil : sum
        }
        var scanExpressions = query.groups + query.aggregates.compactMap(\.argument)
        if let filter { scanExpressions.append(filter) }
        if !query.isAggregate { scanExpressions += query.projections }
        var plan = QueryPlan(query: query, filter: filter, units: units, prunedUnits: pruned, unitsTotal: unitsTotal,
                             filterColumns: filterColumns, otherColumns: otherColumns,
                             truncatedOnlyColumns: truncatedOnlyColumns(scanExpressions, schema: query.schema),
                             scanRowsMax: scanRowsMax)
        plan.filterOnlyColumns = Set(filterColumns).subtracting(needed)
        plan.filterTrueUnits = filterTrueUnits
        return plan
    }

    /// Timestamp columns whose every use in `expressions` is `date_trunc(part, column)`.
    func truncatedOnlyColumns(_ expressions: [BoundExpression], schema: TableSchema) -> [Int: [DatePart]] {
        var parts: [Int: Set<DatePart>] = [:]
        var otherUses = Set<Int>()
        func visit(_ expression: BoundExpression) {
            switch expression.kind {
            case .function(.dateTrunc(let part), let arguments):
                if arguments.count == 1, case .column(let column) = arguments[0].kind {
                    parts[column, default: []].insert(part)
                    return
                }
            case .column(let column):
                otherUses.insert(column)
                return
            default:
                break
            }
            expression.children.forEach(visit)
        }
        expressions.forEach(visit)
        var result: [Int: [DatePart]] = [:]
        for (column, columnParts) in parts where !otherUses.contains(column) && schema.columns[column].type == .timestamp {
            result[column] = columnParts.sorted { $0.rawValue < $1.rawValue }
        }
        return result
    }
}

/// Replaces sub-expressions without column inputs by their value.
struct ConstantFolder {
    func fold(_ expression: BoundExpression) throws -> BoundExpression {
        switch expression.kind {
        case .column, .constant:
            return expression
        default:
            break
        }
        if expression.referencedColumns.isEmpty {
            let executor = ExpressionExecutor()
            let vector = try executor.evaluate(expression, DataChunk(columns: [], count: 1))
            return BoundExpression.constant(vector.value(at: 0), type: expression.type)
        }
        switch expression.kind {
        case .function(let function, let arguments):
            return BoundExpression(.function(function, try arguments.map(fold)), type: expression.type)
        case .and(let terms):
            return BoundExpression(.and(try terms.map(fold)), type: expression.type)
        case .or(let terms):
            return BoundExpression(.or(try terms.map(fold)), type: expression.type)
        case .not(let operand):
            return BoundExpression(.not(try fold(operand)), type: expression.type)
        case .isNull(let operand, let negated):
            return BoundExpression(.isNull(try fold(operand), negated: negated), type: expression.type)
        case .inList(let operand, let list, let negated):
            return BoundExpression(.inList(try fold(operand), try list.map(fold), negated: negated), type: expression.type)
        case .like(let operand, let pattern, let negated, let caseInsensitive):
            return BoundExpression(.like(try fold(operand), pattern: try fold(pattern), negated: negated,
                                         caseInsensitive: caseInsensitive), type: expression.type)
        case .caseWhen(let branches, let otherwise):
            return BoundExpression(.caseWhen(try branches.map { (try fold($0.condition), try fold($0.result)) },
                                             otherwise: try fold(otherwise)), type: expression.type)
        case .cast(let operand):
            return BoundExpression(.cast(try fold(operand)), type: expression.type)
        case .column, .constant:
            return expression
        }
    }
}
