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

    /// Whether row `row` of `columns` would enter the heap; compares the sort keys straight
    /// from the vectors, so rejected rows (most of them) are never materialised.
    func accepts(_ columns: [Vector], row: Int, sequence: UInt64) -> Bool {
        guard capacity > 0 else { return false }
        guard heap.count >= capacity else { return true }
        let root = heap[0]
        for key in ordering.keys {
            let vector = columns[key.column]
            let rootValue = root.values[key.column]
            let rowIsNull = vector.isNull(row)
            switch (rowIsNull, rootValue.isNull) {
            case (true, true): continue
            case (true, false): return key.nullsFirst
            case (false, true): return !key.nullsFirst
            case (false, false):
                var order = compareVectorRow(vector, row: row, to: rootValue)
                if key.descending { order = -order }
                if order != 0 { return order < 0 }
            }
        }
        return sequence < root.sequence
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

/// Orders a non-NULL vector row against a non-NULL value of the same type without building a
/// `Value` for the row.
func compareVectorRow(_ vector: Vector, row: Int, to value: Value) -> Int {
    let index = vector.bufferIndex(row)
    switch (vector.buffer, value) {
    case (.int64(let values), .int64(let other)), (.int64(let values), .timestamp(let other)):
        let x = values[index]
        return x < other ? -1 : (x == other ? 0 : 1)
    case (.double(let values), .double(let other)):
        return compareDoubles(values[index], other)
    case (.bool(let values), .bool(let other)):
        let x = values[index] != 0
        return x == other ? 0 : (x ? 1 : -1)
    case (.string(let strings), .string(var other)):
        return strings.withBytes(at: index) { bytes in other.withUTF8 { compareByteBuffers(bytes, $0) } }
    default:
        return vector.value(at: row).compare(to: value) ?? 0
    }
}

/// Orders two rows of one vector (NULLs per the key), without building `Value`s.
func compareVectorRows(_ vector: Vector, _ a: Int, _ b: Int, key: SortKey) -> Int {
    let aIsNull = vector.isNull(a), bIsNull = vector.isNull(b)
    if aIsNull || bIsNull {
        if aIsNull && bIsNull { return 0 }
        return aIsNull == key.nullsFirst ? -1 : 1
    }
    let x = vector.bufferIndex(a), y = vector.bufferIndex(b)
    var order: Int
    switch vector.buffer {
    case .int64(let values): order = values[x] < values[y] ? -1 : (values[x] == values[y] ? 0 : 1)
    case .double(let values): order = compareDoubles(values[x], values[y])
    case .bool(let values): order = Int(values[x]) - Int(values[y])
    case .string(let strings):
        order = strings.withBytes(at: x) { left in strings.withBytes(at: y) { right in compareByteBuffers(left, right) } }
    case .none: order = 0
    }
    return key.descending ? -order : order
}

/// The best `capacity` rows of one chunk by the ORDER BY keys (ties by position), found with
/// a small heap of row positions, so at most `capacity` rows per chunk are materialised even
/// when every row would enter the global top-N (data sorted the "wrong" way).
func bestRows(of columns: [Vector], rows: [Int], keys: [SortKey], capacity: Int) -> [Int] {
    if rows.count <= capacity { return rows }
    func less(_ a: Int, _ b: Int) -> Bool {
        for key in keys {
            let order = compareVectorRows(columns[key.column], a, b, key: key)
            if order != 0 { return order < 0 }
        }
        return a < b
    }
    // Max-heap by `less`: the root is the worst kept row.
    var heap: [Int] = []
    heap.reserveCapacity(capacity)
    for row in rows {
        if heap.count < capacity {
            heap.append(row)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard less(heap[parent], heap[child]) else { break }
                heap.swapAt(parent, child)
                child = parent
            }
        } else if less(row, heap[0]) {
            heap[0] = row
            var parent = 0
            while true {
                let left = 2 * parent + 1, right = left + 1
                var largest = parent
                if left < heap.count, less(heap[largest], heap[left]) { largest = left }
                if right < heap.count, less(heap[largest], heap[right]) { largest = right }
                if largest == parent { break }
                heap.swapAt(parent, largest)
                parent = largest
            }
        }
    }
    return heap.sorted()
}
