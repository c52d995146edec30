import ColumnStore
import Core
import Dispatch
import Foundation
import Logging
import Synchronization

/// Runs a plan. Pipeline shape (one table, no joins):
///
///     scan units (parallel, morsel = one unit) -> filter ->
///         grouped:   partial hash aggregate per worker
///         otherwise: projection -> DISTINCT partial aggregate | top-N heap | row buffer
///     then, on the calling thread:
///         merge partials -> HAVING -> projection -> DISTINCT -> ORDER BY / top-N -> OFFSET/LIMIT
///
/// Workers take unit indices from a shared counter, so fast workers take more units.
struct QueryExecutor {
    let plan: QueryPlan
    let options: QueryOptions
    let context: ExecutionContext
    let logger: Logger

    private var query: BoundQuery { plan.query }

    /// Output rows (visible and hidden columns), ordered and limited.
    func run() throws -> [OutputRow] {
        logger.debug("query plan", metadata: [
            "plan.units_kept": "\(plan.units.count)", "plan.units_pruned": "\(plan.prunedUnits.count)",
            "plan.columns_filter": "\(plan.filterColumns.count)", "plan.columns_other": "\(plan.otherColumns.count)",
        ])
        let result = try runStages()
        if result.count > options.resultRowsMax { throw resultTooLarge() }
        return result
    }

    private func runStages() throws -> [OutputRow] {
        if query.isAggregate {
            let aggregate = try runParallel(makeState: { _ in
                HashAggregate(groups: query.groups, aggregates: query.aggregates, mergeThreads: options.threadsMax)
            }, consume: { state, chunk, executor, _, worker in
                try state.consume(chunk, executor: executor)
                try context.reserveMemory(owner: worker, bytes: state.memoryBytes)
                return true
            }, unitDone: { state, _ in state.resetDictionaryCache() }, takeUnit: entryCountsTaker())
            return try finishAggregate(try merge(aggregate))
        }
        if query.distinct {
            let distinct = try runParallel(makeState: { _ in distinctAggregate() }, consume: { state, chunk, executor, _, worker in
                let projected = try project(chunk, executor: executor)
                try state.consume(projected, executor: executor)
                try context.reserveMemory(owner: worker, bytes: state.memoryBytes)
                return true
            }, unitDone: { state, _ in state.resetDictionaryCache() })
            return try orderAndLimit(try merge(distinct).resultChunks())
        }
        if !query.orderBy.isEmpty {
            return try runOrdered()
        }
        return try runPlain()
    }

    /// For `count(*)` by one string column: takes a unit whose rows all pass (no filter, or
    /// proven) from its storage's counts per dictionary entry, when the storage has them.
    private func entryCountsTaker() -> ((HashAggregate, any ScanUnit, Int) throws -> Bool)? {
        guard options.entryCountsFromStorage,
              let column = HashAggregate.countsEntriesOfColumn(groups: query.groups, aggregates: query.aggregates) else { return nil }
        let name = query.schema.columns[column].name
        return { [plan, context] state, unit, worker in
            guard plan.filter == nil || plan.filterTrueUnits.contains(unit.name) else { return false }
            try context.checkpoint()
            let counted: ParquetEntryCounts?
            do {
                counted = try unit.countEntries(column: name)
            } catch let error as QueryError {
                throw error
            } catch {
                throw QueryError(.io, "reading column \(name) of \(unit.name) failed: \(error)")
            }
            guard let counted else { return false }
            state.consume(entryCounts: counted)
            context.countScanned(rows: unit.rowCount, columns: 1, countedByEntry: true)
            try context.reserveMemory(owner: worker, bytes: state.memoryBytes)
            return true
        }
    }

    /// Folds the workers' partial aggregates into the first one.
    private func merge(_ partials: [HashAggregate]) throws -> HashAggregate {
        let merged = partials[0]
        for partial in partials.dropFirst() {
            try context.checkpoint()
            try merged.merge(partial)
            try context.reserveMemory(owner: -1, bytes: merged.memoryBytes)
        }
        return merged
    }

    // MARK: Parallel scan

    /// Scans every kept unit on `threadsMax` workers; returns each worker's state.
    private func runParallel<State>(makeState: (Int) -> State,
                                    consume: @escaping (State, DataChunk, ExpressionExecutor, Int, Int) throws -> Bool,
                                    unitDone: @escaping (State, Int) -> Void,
                                    stopWhen: (() -> Bool)? = nil,
                                    unitOrder: [Int]? = nil,
                                    skipUnit: ((State, Int) -> Bool)? = nil,
                                    narrowing: TopNRowNarrowing? = nil,
                                    takeUnit: ((State, any ScanUnit, Int) throws -> Bool)? = nil) throws -> [State] {
        let units = plan.units
        let workerCount = max(1, min(options.threadsMax, units.count))
        let states = (0..<workerCount).map(makeState)
        let errors = ErrorBox()
        let next = UnitCounter()
        let stateBox = UncheckedBox(states)
        let run: (Int) -> Void = { worker in
            let executor = ExpressionExecutor()
            let scanner = UnitScanner(plan: plan, executor: executor, context: context, narrowing: narrowing)
            let state = stateBox.value[worker]
            while stopWhen?() != true, let position = next.take(below: units.count) {
                let unitIndex = unitOrder?[position] ?? position
                if let skipUnit, skipUnit(state, unitIndex) {
                    context.countSkipped()
                    continue
                }
                do {
                    if let takeUnit, try takeUnit(state, units[unitIndex], worker) { continue }
                    try scanner.scan(units[unitIndex]) { chunk in
                        try consume(state, chunk, executor, unitIndex, worker)
                    }
                    unitDone(state, unitIndex)
                } catch {
                    errors.record(error)
                    context.cancel()
                    return
                }
            }
        }
        if workerCount == 1 {
            run(0)
        } else {
            ParallelFor.run(iterations: workerCount, run)
        }
        if let error = errors.first { throw error }
        return states
    }

    private func project(_ chunk: DataChunk, executor: ExpressionExecutor) throws -> DataChunk {
        DataChunk(columns: try query.projections.map { try executor.evaluate($0, chunk) }, count: chunk.count)
    }

    private func distinctAggregate() -> HashAggregate {
        HashAggregate(groups: (0..<query.visibleCount).map { BoundExpression(.column($0), type: query.projections[$0].type) },
                      aggregates: [])
    }

    // MARK: Aggregate queries

    private func finishAggregate(_ aggregate: HashAggregate) throws -> [OutputRow] {
        let executor = ExpressionExecutor()
        var projected: [DataChunk] = []
        for chunk in try aggregate.resultChunks() {
            try context.checkpoint()
            var input = chunk
            if let having = query.having {
                let passing = try executor.select(having, chunk)
                if passing.isEmpty { continue }
                if passing.count < chunk.count { input = chunk.sliced(passing) }
            }
            projected.append(try project(input, executor: executor))
        }
        if query.distinct {
            let distinct = distinctAggregate()
            for chunk in projected { try distinct.consume(chunk, executor: executor) }
            return try orderAndLimit(try distinct.resultChunks())
        }
        return try orderAndLimit(projected)
    }

    /// Sorts (or takes the top N of) fully computed chunks, then applies OFFSET/LIMIT.
    private func orderAndLimit(_ chunks: [DataChunk]) throws -> [OutputRow] {
        var all: [OutputRow] = []
        var sequence: UInt64 = 0
        var bytes = 0
        for chunk in chunks {
            let chunkRows = rows(of: chunk, sequenceBase: sequence)
            sequence += UInt64(chunk.count)
            for row in chunkRows { bytes += estimatedBytes(row) }
            all += chunkRows
            try context.reserveMemory(owner: -2, bytes: bytes)
        }
        if !query.orderBy.isEmpty {
            let ordering = RowOrdering(keys: query.orderBy)
            all.sort(by: ordering.less)
        }
        return applyOffsetLimit(all)
    }

    private func applyOffsetLimit(_ rows: [OutputRow]) -> [OutputRow] {
        let start = min(query.offset, rows.count)
        let end = query.limit.map { min(rows.count, start + min($0, rows.count)) } ?? rows.count
        return Array(rows[start..<end])
    }

    // MARK: Ordered queries without grouping

    private func runOrdered() throws -> [OutputRow] {
        let ordering = RowOrdering(keys: query.orderBy)
        if let limit = query.limit {
            let (capacity, overflow) = limit.addingReportingOverflow(query.offset)
            let heapCapacity = overflow ? Int.max : capacity
            let topNBounds = TopNUnitBounds(plan: plan)
            let heaps = try runParallel(makeState: { _ in UncheckedBox(TopNHeap(ordering: ordering, capacity: heapCapacity)) },
                                        consume: { box, chunk, executor, unit, worker in
                let projected = try project(chunk, executor: executor)
                let base = UInt64(unit) << 32 | UInt64(box.rowsSeen)
                box.rowsSeen += chunk.count
                let candidates = (0..<projected.count).filter {
                    box.value.accepts(projected.columns, row: $0, sequence: base + UInt64($0))
                }
                for row in bestRows(of: projected.columns, rows: candidates, keys: query.orderBy,
                                    capacity: heapCapacity) {
                    box.value.offer(OutputRow(values: projected.columns.map { $0.value(at: row) },
                                              sequence: base + UInt64(row)))
                }
                try context.reserveMemory(owner: worker, bytes: box.value.bytes)
                return true
            }, unitDone: { box, _ in box.rowsSeen = 0 }, unitOrder: topNBounds?.order, skipUnit: topNBounds.map { bounds in
                { box, unit in bounds.cannotImprove(box.value, unit: unit) }
            }, narrowing: options.lateMaterialization ? TopNRowNarrowing(plan: plan) : nil)
            var merged = heaps.flatMap { $0.value.heap }
            merged.sort(by: ordering.less)
            return applyOffsetLimit(merged)
        }
        let buffers = try runParallel(makeState: { _ in UncheckedBox([OutputRow]()) },
                                      consume: { box, chunk, executor, unit, worker in
            let projected = try project(chunk, executor: executor)
            let base = UInt64(unit) << 32 | UInt64(box.rowsSeen)
            box.rowsSeen += chunk.count
            let chunkRows = rows(of: projected, sequenceBase: base)
            box.value += chunkRows
            box.bytes += chunkRows.reduce(0) { $0 + estimatedBytes($1) }
            try checkResultSize(box.value.count)
            try context.reserveMemory(owner: worker, bytes: box.bytes)
            return true
        }, unitDone: { box, _ in box.rowsSeen = 0 })
        var all = buffers.flatMap(\.value)
        try checkResultSize(all.count)
        all.sort(by: ordering.less)
        return applyOffsetLimit(all)
    }

    // MARK: Plain queries

    /// No grouping, DISTINCT or ORDER BY: rows in unit order; with LIMIT the scan stops once
    /// the units finished in order hold enough rows.
    private func runPlain() throws -> [OutputRow] {
        let needed = plan.scanRowsMax
        let progress = PrefixProgress(unitCount: plan.units.count, rowsNeeded: needed)
        let buffers = try runParallel(makeState: { _ in UncheckedBox([Int: [OutputRow]]()) },
                                      consume: { box, chunk, executor, unit, worker in
            if progress.isSatisfied { return false }
            let projected = try project(chunk, executor: executor)
            var unitRows = box.value[unit] ?? []
            let base = UInt64(unit) << 32 | UInt64(unitRows.count)
            var chunkRows = rows(of: projected, sequenceBase: base)
            if let needed, unitRows.count + chunkRows.count > needed {
                chunkRows.removeLast(unitRows.count + chunkRows.count - needed)
            }
            unitRows += chunkRows
            box.value[unit] = unitRows
            box.bytes += chunkRows.reduce(0) { $0 + estimatedBytes($1) }
            try checkResultSize(progress.add(rows: chunkRows.count))
            try context.reserveMemory(owner: worker, bytes: box.bytes)
            return needed.map { unitRows.count < $0 } ?? true
        }, unitDone: { box, unit in
            progress.finish(unit: unit, rows: box.value[unit]?.count ?? 0)
        }, stopWhen: { progress.isSatisfied })
        var byUnit: [Int: [OutputRow]] = [:]
        for buffer in buffers { byUnit.merge(buffer.value) { $0 + $1 } }
        var all: [OutputRow] = []
        for unit in byUnit.keys.sorted() {
            all += byUnit[unit]!
            if let needed, all.count >= needed { break }
        }
        return applyOffsetLimit(all)
    }

    /// Fails early while collecting rows that can only end in a too-large result.
    private func checkResultSize(_ rowsCollected: Int) throws {
        if query.limit == nil, rowsCollected - query.offset > options.resultRowsMax { throw resultTooLarge() }
    }

    private func resultTooLarge() -> QueryError {
        QueryError(.resultTooLarge, "result has more than \(options.resultRowsMax) rows (resultRowsMax); "
                       + "add a LIMIT or aggregate")
    }
}

/// A mutable box shared by one worker's closures.
final class UncheckedBox<Value> {
    var value: Value
    var rowsSeen = 0
    var bytes = 0
    init(_ value: Value) { self.value = value }
}

/// Hands out unit indices to workers.
final class UnitCounter: Sendable {
    private let next = Mutex(0)

    func take(below count: Int) -> Int? {
        next.withLock { next in
            guard next < count else { return nil }
            next += 1
            return next - 1
        }
    }
}

/// Keeps the first error raised by any worker.
final class ErrorBox: Sendable {
    private let error = Mutex<Error?>(nil)

    func record(_ newError: Error) {
        error.withLock { error in
            if error == nil || error is CancellationError { error = newError }
        }
    }

    var first: Error? {
        error.withLock { $0 }
    }
}

/// Tracks rows of finished units so a LIMIT query stops once the leading units suffice.
final class PrefixProgress: Sendable {
    private struct State {
        var rowsByUnit: [Int?]
        var satisfied = false
        var rowsCollected = 0
    }
    private let state: Mutex<State>
    private let rowsNeeded: Int?

    /// Counts rows collected by any worker; returns the total so far.
    func add(rows: Int) -> Int {
        state.withLock { state in
            state.rowsCollected += rows
            return state.rowsCollected
        }
    }

    init(unitCount: Int, rowsNeeded: Int?) {
        state = Mutex(State(rowsByUnit: [Int?](repeating: nil, count: unitCount)))
        self.rowsNeeded = rowsNeeded
    }

    var isSatisfied: Bool {
        state.withLock { $0.satisfied }
    }

    func finish(unit: Int, rows: Int) {
        state.withLock { state in
            state.rowsByUnit[unit] = rows
            guard let rowsNeeded else { return }
            var total = 0
            for rows in state.rowsByUnit {
                guard let rows else { break }
                total += rows
                if total >= rowsNeeded {
                    state.satisfied = true
                    return
                }
            }
        }
    }
}

/// Top-N over a plain column: units are scanned best bound first (highest max for DESC,
/// lowest min for ASC), and a unit whose best possible key cannot beat a full heap's worst
/// row is skipped without reading it. This turns "newest 50 events" into a scan of the
/// newest row groups only.
struct TopNUnitBounds {
    let key: SortKey
    /// Per unit: the best key value its statistics allow, nil when unknown.
    let bestValues: [Value?]
    /// Whether the unit may hold NULL keys (which sort first under NULLS FIRST).
    let mayHoldNulls: [Bool]
    let order: [Int]

    init?(plan: QueryPlan) {
        let query = plan.query
        guard let key = query.orderBy.first, case .column(let column) = query.projections[key.column].kind,
              !query.isAggregate else { return nil }
        let name = query.schema.columns[column].name
        let type = query.schema.columns[column].type
        var bests: [Value?] = []
        var nulls: [Bool] = []
        for unit in plan.units {
            let statistics = unit.statistics(column: name)
            var best = key.descending ? statistics?.max : statistics?.min
            if type == .timestamp, case .int64(let micros)? = best { best = .timestamp(micros) }
            bests.append(best)
            nulls.append(statistics?.nullCount.map { $0 > 0 } ?? true)
        }
        guard bests.contains(where: { $0 != nil }) else { return nil }
        self.key = key
        bestValues = bests
        mayHoldNulls = nulls
        order = bests.indices.sorted { a, b in
            switch (bests[a], bests[b]) {
            case (nil, nil): return a < b
            case (nil, _): return true // unknown bounds first: they may hold anything
            case (_, nil): return false
            case let (x?, y?):
                let order = (x.compare(to: y) ?? 0) * (key.descending ? -1 : 1)
                return order != 0 ? order < 0 : a < b
            }
        }
    }

    /// True when the heap is full and nothing in `unit` can sort before its worst row.
    func cannotImprove(_ heap: TopNHeap, unit: Int) -> Bool {
        if heap.capacity == 0 { return true }  // LIMIT 0: no row can enter (and there is no worst row)
        guard heap.heap.count >= heap.capacity, let best = bestValues[unit] else { return false }
        if key.nullsFirst && mayHoldNulls[unit] { return false }
        let worst = heap.heap[0].values[key.column]
        if worst.isNull { return false }
        guard var order = best.compare(to: worst) else { return false }
        if key.descending { order = -order }
        // Equal keys could still win on later keys or sequence: only strictly worse units go.
        return order > 0
    }
}
