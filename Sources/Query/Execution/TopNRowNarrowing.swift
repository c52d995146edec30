/// Late materialisation for `ORDER BY <columns> LIMIT k` without grouping or DISTINCT
/// (e.g. "the newest 50 deactivations", `SELECT * … ORDER BY received_at DESC LIMIT 50`).
///
/// Per scan unit (`UnitScanner.scanNarrowed`):
/// 1. Read the filter columns and the sort-key columns only, and run the filter over the
///    whole unit: the unit's passing rows.
/// 2. Keep the unit's best `capacity` (LIMIT + OFFSET) passing rows by the sort keys, ties to
///    the earlier row (the engine's scan-order tie-break): no row outside them can be in the
///    answer, whatever the other units hold.
/// 3. Read every other column for the row span of those rows only
///    (`ScanUnit.readColumn(name:rows:)`: a Parquet unit decodes just the pages that overlap),
///    and hand the top-N heap a chunk of those rows alone, in row order.
/// Row groups are sorted by received_at, so "newest N" touches one page per column instead
/// of the whole row group (49 columns × 131,072 rows for the deactivations page).
struct TopNRowNarrowing {
    /// Schema indices of the sort-key columns, in ORDER BY order.
    let keyColumns: [Int]
    /// The ORDER BY keys re-pointed at `keyColumns` positions 0, 1, ….
    let keys: [SortKey]
    let capacity: Int

    /// Beyond this many rows per unit, step 2's heap costs more than reading whole columns.
    static let capacityMax = 4_096

    init?(plan: QueryPlan) {
        let query = plan.query
        guard !query.isAggregate, !query.distinct, !query.orderBy.isEmpty, let limit = query.limit else { return nil }
        let (capacity, overflow) = limit.addingReportingOverflow(query.offset)
        guard !overflow, capacity > 0, capacity <= Self.capacityMax else { return nil }
        var keyColumns: [Int] = []
        var keys: [SortKey] = []
        for key in query.orderBy {
            guard case .column(let column) = query.projections[key.column].kind else { return nil }
            keys.append(SortKey(column: keyColumns.count, descending: key.descending, nullsFirst: key.nullsFirst))
            keyColumns.append(column)
        }
        // Nothing to gain when every column the query reads is needed to filter or sort.
        let early = Set(plan.filterColumns).union(keyColumns)
        guard plan.otherColumns.contains(where: { !early.contains($0) }) else { return nil }
        self.keyColumns = keyColumns
        self.keys = keys
        self.capacity = capacity
    }

    /// Step 2: the best `capacity` of `passing` (unit rows, ascending) by the key vectors
    /// (unit-length), returned in ascending row order.
    func candidates(keyVectors: [Vector], passing: [UInt32]) -> [UInt32] {
        if passing.count <= capacity { return passing }
        var heap = TopNHeap(ordering: RowOrdering(keys: keys), capacity: capacity)
        for row in passing {
            let index = Int(row)
            guard heap.accepts(keyVectors, row: index, sequence: UInt64(row)) else { continue }
            heap.offer(OutputRow(values: keyVectors.map { $0.value(at: index) }, sequence: UInt64(row)))
        }
        return heap.heap.map { UInt32($0.sequence) }.sorted()
    }
}
