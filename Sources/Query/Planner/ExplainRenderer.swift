/// EXPLAIN output: the operator tree bottom-up from the result, then the scan units kept
/// and pruned (with the reason for each pruned unit).
struct ExplainRenderer {
    let plan: QueryPlan
    /// Units listed by name before the rest are summarised.
    let unitsListedMax = 50

    func lines() -> [String] {
        let query = plan.query
        let schema = query.schema
        let scanName: (Int) -> String = { schema.columns[$0].name }
        let groupCount = query.groups.count
        let aggregateOutputName: (Int) -> String = { index in
            if index < groupCount { return query.groups[index].describe(columnNames: scanName) }
            let aggregate = query.aggregates[index - groupCount]
            return "\(aggregate.kind.rawValue)(\(aggregate.distinct ? "DISTINCT " : "")"
                + "\(aggregate.argument?.describe(columnNames: scanName) ?? ""))"
        }
        let projectionNames: (Int) -> String = query.isAggregate ? aggregateOutputName : scanName

        var lines: [String] = []
        var depth = 0
        func add(_ text: String) {
            lines.append(String(repeating: "  ", count: depth) + text)
            depth += 1
        }
        if query.limit != nil || query.offset > 0 {
            add("LIMIT \(query.limit.map(String.init) ?? "ALL") OFFSET \(query.offset)")
        }
        if !query.orderBy.isEmpty {
            let keys = query.orderBy.map { key in
                "\(query.projections[key.column].describe(columnNames: projectionNames))"
                    + " \(key.descending ? "DESC" : "ASC") NULLS \(key.nullsFirst ? "FIRST" : "LAST")"
            }.joined(separator: ", ")
            add("\(query.limit != nil ? "TOP_N" : "ORDER_BY") \(keys)")
        }
        if query.distinct { add("DISTINCT") }
        add("PROJECTION " + query.projections.prefix(query.visibleCount)
            .map { $0.describe(columnNames: projectionNames) }.joined(separator: ", "))
        if let having = query.having { add("HAVING \(having.describe(columnNames: aggregateOutputName))") }
        if query.isAggregate {
            let groups = query.groups.map { $0.describe(columnNames: scanName) }.joined(separator: ", ")
            let aggregates = (0..<query.aggregates.count).map { aggregateOutputName(groupCount + $0) }
                .joined(separator: ", ")
            add("HASH_GROUP_BY groups=[\(groups)] aggregates=[\(aggregates)]")
            if query.source != nil, HashAggregate.countsEntriesOfColumn(groups: query.groups, aggregates: query.aggregates) != nil {
                // Shown as planned; `QueryOptions.entryCountsFromStorage` can still turn it off.
                lines.append(String(repeating: "  ", count: depth)
                    + "COUNT_PER_ENTRY from the pages of each unit every row of which passes (others scanned)")
            }
        }
        if let filter = plan.filter { add("FILTER \(filter.describe(columnNames: scanName))") }
        if query.source != nil {
            if let narrowing = TopNRowNarrowing(plan: plan) {
                // Shown as planned; `QueryOptions.lateMaterialization` can still turn it off.
                let early = Set(plan.filterColumns).union(narrowing.keyColumns)
                let late = plan.otherColumns.filter { !early.contains($0) }.map(scanName)
                lines.append(String(repeating: "  ", count: depth)
                    + "LATE_MATERIALIZE best \(narrowing.capacity) rows per unit, then [\(late.joined(separator: ", "))] for their pages only")
            }
            let read = (plan.filterColumns + plan.otherColumns).map(scanName)
            add("SCAN \(schema.name) columns=[\(read.joined(separator: ", "))]")
            lines.append("units: \(plan.units.count) kept, \(plan.prunedUnits.count) pruned, \(plan.unitsTotal) total")
            if !plan.filterTrueUnits.isEmpty { lines.append("filter true on every row of \(plan.filterTrueUnits.count) kept") }
            for unit in plan.units.prefix(unitsListedMax) { lines.append("kept: \(unit.name) (\(unit.rowCount) rows)") }
            if plan.units.count > unitsListedMax { lines.append("kept: ... \(plan.units.count - unitsListedMax) more") }
            for unit in plan.prunedUnits.prefix(unitsListedMax) { lines.append("pruned: \(unit.name) (\(unit.reason))") }
            if plan.prunedUnits.count > unitsListedMax {
                lines.append("pruned: ... \(plan.prunedUnits.count - unitsListedMax) more")
            }
        } else {
            add("DUMMY_SCAN (one row, no FROM)")
        }
        return lines
    }
}
