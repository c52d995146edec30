/// Builds a flat vector one row at a time. For operators whose output rows come from
/// different inputs (CASE, coalesce, aggregate results, sort output); kernels that map a
/// whole vector write their buffers directly instead.
struct VectorBuilder {
    let type: LogicalType
    private var int64s: [Int64] = []
    private var doubles: [Double] = []
    private var bools: [UInt8] = []
    private var strings: StringColumnBuilder
    private var validity: [UInt8] = []
    private var nullCount = 0

    init(type: LogicalType, capacity: Int = vectorSize) {
        self.type = type
        strings = StringColumnBuilder(capacity: type == .varchar ? capacity : 0)
        validity.reserveCapacity(capacity)
        switch type {
        case .bigint, .timestamp: int64s.reserveCapacity(capacity)
        case .double: doubles.reserveCapacity(capacity)
        case .boolean: bools.reserveCapacity(capacity)
        default: break
        }
    }

    var count: Int { validity.count }

    mutating func appendNull() {
        validity.append(0)
        nullCount += 1
        switch type {
        case .bigint, .timestamp: int64s.append(0)
        case .double: doubles.append(0)
        case .boolean: bools.append(0)
        case .varchar: strings.appendEmpty()
        case .null: break
        }
    }

    /// Appends row `row` of `vector`, which must have this builder's type (or NULL type).
    mutating func append(_ vector: Vector, row: Int) {
        if vector.isNull(row) || vector.type == .null {
            appendNull()
            return
        }
        let index = vector.bufferIndex(row)
        validity.append(1)
        switch vector.buffer {
        case .int64(let values): int64s.append(values[index])
        case .double(let values): doubles.append(values[index])
        case .bool(let values): bools.append(values[index])
        case .string(let column): column.withBytes(at: index) { strings.append($0) }
        case .none: break
        }
    }

    mutating func append(_ value: Value) {
        switch value {
        case .null: appendNull(); return
        case .int64(let v), .timestamp(let v): int64s.append(v)
        case .double(let v): doubles.append(v)
        case .bool(let v): bools.append(v ? 1 : 0)
        case .string(let v): strings.append(v)
        }
        validity.append(1)
    }

    func build() -> Vector {
        let buffer: VectorBuffer
        switch type {
        case .bigint, .timestamp: buffer = .int64(int64s)
        case .double: buffer = .double(doubles)
        case .boolean: buffer = .bool(bools)
        case .varchar: buffer = .string(strings.build())
        case .null: buffer = .none
        }
        return Vector(type: type, buffer: buffer, validity: nullCount > 0 || type == .null ? validity : nil,
                      encoding: .flat, count: validity.count)
    }
}
