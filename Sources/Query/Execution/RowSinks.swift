/// A materialised output row with a sequence number that breaks sort ties the same way on
/// every run (unit index, then row position), whatever the thread schedule.
struct OutputRow {
    var values: [Value]
    var sequence: UInt64
}

/// Orders rows by the ORDER BY keys: NULLs last unless NULLS FIRST (DuckDB's default for
/// both ASC and DESC), then by sequence.
struct RowOrdering {
    let keys: [SortKey]

    func compare(_ a: [Value], _ b: [Value]) -> Int {
        for key in keys {
            let x = a[key.column], y = b[key.column]
            switch (x.isNull, y.isNull) {
            case (true, true): continue
            case (true, false): return key.nullsFirst ? -1 : 1
            case (false, true): return key.nullsFirst ? 1 : -1
            case (false, false):
                var order = x.compare(to: y) ?? 0
                if key.descending { order = -order }
                if order != 0 { return order }
            }
        }
        return 0
    }

    func less(_ a: OutputRow, _ b: OutputRow) -> Bool {
        let order = compare(a.values, b.values)
        return order != 0 ? order < 0 : a.sequence < b.sequence
    }
}

/// Materialises rows of a chunk.
func rows(of chunk: DataChunk, sequenceBase: UInt64) -> [OutputRow] {
    (0..<chunk.count).map { row in
        OutputRow(values: chunk.columns.map { $0.value(at: row) }, sequence: sequenceBase + UInt64(row))
    }
}

/// Approximate bytes of a row, for the memory budget.
func estimatedBytes(_ row: OutputRow) -> Int {
    row.values.reduce(40) { total, value in
        if case .string(let text) = value { return total + 24 + text.utf8.count }
        return total + 24
    }
}

/// ORDER BY ... LIMIT k: keeps the best k rows in a max-heap whose root is the worst kept row,
/// so most rows are rejected after comparing their sort keys with the root.
struct TopNHeap {
    let ordering: RowOrdering
    let capacity: Int
    private(set) var heap: [OutputRow] = []
    private(set) var bytes = 0

    init(ordering: RowOrdering, capacity: Int) {
        self.ordering = ordering
        self.capacity = capacity
    }

    mutating func offer(_ row: OutputRow) {
        guard capacity > 0 else { return }
        if heap.count < capacity {
            heap.append(row)
            bytes += estimatedBytes(row)
            siftUp(heap.count - 1)
        } else if ordering.less(row, heap[0]) {
            bytes += estimatedBytes(row) - estimatedBytes(heap[0])
            heap[0] = row
            siftDown(0)
        }
    }

    /// Whether a row with these values could enter the heap (cheap pre-check before
    /// materialising the whole row).
    func mightAccept(_ values: [Value], sequence: UInt64) -> Bool {
        heap.count < capacity || ordering.less(OutputRow(values: values, sequence: sequence), heap[0])
    }

    func sorted() -> [OutputRow] { heap.sorted(by: ordering.less) }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            if ordering.less(heap[parent], heap[child]) {
                heap.swapAt(parent, child)
                child = parent
            } else {
                return
            }
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var largest = parent
            if left < heap.count, ordering.less(heap[largest], heap[left]) { largest = left }
            if right < heap.count, ordering.less(heap[largest], heap[right]) { largest = right }
            if largest == parent { return }
            heap.swapAt(parent, largest)
            parent = largest
        }
    }
}
