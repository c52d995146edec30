import ColumnStore

/// Rows per batch. A power of two, like DuckDB's STANDARD_VECTOR_SIZE.
let vectorSize = 2048

/// The flat values behind a vector.
enum VectorBuffer {
    /// BIGINT and TIMESTAMP.
    case int64([Int64])
    case double([Double])
    /// BOOLEAN, one byte (0 or 1) per entry.
    case bool([UInt8])
    case string(StringColumn)
    /// The NULL type has no values.
    case none

    var count: Int {
        switch self {
        case .int64(let values): return values.count
        case .double(let values): return values.count
        case .bool(let values): return values.count
        case .string(let strings): return strings.count
        case .none: return 0
        }
    }
}

/// How a vector's rows map onto its buffer.
enum VectorEncoding {
    /// Row `i` is buffer entry `i`.
    case flat
    /// Every row is buffer entry 0.
    case constant
    /// Row `i` is buffer entry `indices[i]`: a storage dictionary, or a selection (filter) over
    /// a flat buffer. DuckDB calls both "dictionary vectors".
    case dictionary([UInt32])
}

/// Identity for a storage dictionary, so work done once per dictionary entry (a predicate,
/// a group id) can be reused across the batches of one scan unit.
final class DictionaryToken: Sendable {}

/// A column of up to `vectorSize` rows (scan-unit-sized while inside the scan) in one of
/// three encodings. Kernels read every encoding the same way through `UnifiedFormat`.
struct Vector {
    var type: LogicalType
    var buffer: VectorBuffer
    /// Per buffer entry, 1 = valid, 0 = NULL; nil = every entry is valid.
    var validity: [UInt8]?
    var encoding: VectorEncoding
    var count: Int
    /// Set when `buffer` is a storage dictionary shared by many batches.
    var dictionaryToken: DictionaryToken?

    init(type: LogicalType, buffer: VectorBuffer, validity: [UInt8]?, encoding: VectorEncoding = .flat,
         count: Int, dictionaryToken: DictionaryToken? = nil) {
        self.type = type
        self.buffer = buffer
        self.validity = validity
        self.encoding = encoding
        self.count = count
        self.dictionaryToken = dictionaryToken
    }

    /// A vector whose every row is `value`.
    static func constant(_ value: Value, type: LogicalType, count: Int) -> Vector {
        let buffer: VectorBuffer
        var validity: [UInt8]? = nil
        switch value {
        case .null:
            buffer = emptyBuffer(for: type, count: 1)
            validity = [0]
        case .int64(let v): buffer = .int64([v])
        case .timestamp(let v): buffer = .int64([v])
        case .double(let v): buffer = .double([v])
        case .bool(let v): buffer = .bool([v ? 1 : 0])
        case .string(let v): buffer = .string(StringColumn([v]))
        }
        return Vector(type: type, buffer: buffer, validity: validity, encoding: .constant, count: count)
    }

    /// A buffer of `count` placeholder entries for `type`.
    static func emptyBuffer(for type: LogicalType, count: Int) -> VectorBuffer {
        switch type {
        case .bigint, .timestamp: return .int64([Int64](repeating: 0, count: count))
        case .double: return .double([Double](repeating: 0, count: count))
        case .boolean: return .bool([UInt8](repeating: 0, count: count))
        case .varchar: return .string(StringColumn(offsets: [Int32](repeating: 0, count: count + 1), bytes: []))
        case .null: return .none
        }
    }

    var isConstant: Bool { if case .constant = encoding { return true } else { return false } }

    /// The buffer index of each row (nil = identity), in the one form every kernel reads.
    var unified: UnifiedFormat {
        switch encoding {
        case .flat: return UnifiedFormat(indices: nil, validity: validity)
        case .constant: return UnifiedFormat(indices: zeroIndices(count), validity: validity)
        case .dictionary(let indices): return UnifiedFormat(indices: indices, validity: validity)
        }
    }

    /// Whether row `row` is NULL.
    @inline(__always)
    func isNull(_ row: Int) -> Bool {
        guard let validity else { return type == .null }
        return validity[bufferIndex(row)] == 0
    }

    @inline(__always)
    func bufferIndex(_ row: Int) -> Int {
        switch encoding {
        case .flat: return row
        case .constant: return 0
        case .dictionary(let indices): return Int(indices[row])
        }
    }

    /// The value of one row; for results and constant folding, not for hot loops.
    func value(at row: Int) -> Value {
        if type == .null || isNull(row) { return .null }
        let index = bufferIndex(row)
        switch buffer {
        case .int64(let values): return type == .timestamp ? .timestamp(values[index]) : .int64(values[index])
        case .double(let values): return .double(values[index])
        case .bool(let values): return .bool(values[index] != 0)
        case .string(let strings): return .string(strings.string(at: index))
        case .none: return .null
        }
    }

    /// Keeps the rows at `selection` (positions in this vector), without copying the buffer.
    func sliced(_ selection: [UInt32]) -> Vector {
        var result = self
        result.count = selection.count
        switch encoding {
        case .constant:
            break
        case .flat:
            result.encoding = .dictionary(selection)
        case .dictionary(let indices):
            result.encoding = .dictionary(indices.withUnsafeBufferPointer { source in
                selection.map { source[Int($0)] }
            })
        }
        return result
    }

    /// Rows `start..<end` as a vector of their own; copies flat buffers (cheap, and kernels
    /// then run on contiguous memory), shares dictionaries.
    func range(_ start: Int, _ end: Int) -> Vector {
        var result = self
        result.count = end - start
        switch encoding {
        case .constant:
            break
        case .dictionary(let indices):
            result.encoding = .dictionary(Array(indices[start..<end]))
        case .flat:
            result.validity = validity.map { Array($0[start..<end]) }
            switch buffer {
            case .int64(let values): result.buffer = .int64(Array(values[start..<end]))
            case .double(let values): result.buffer = .double(Array(values[start..<end]))
            case .bool(let values): result.buffer = .bool(Array(values[start..<end]))
            case .string(let strings): result.buffer = .string(strings.range(start, end))
            case .none: break
            }
        }
        return result
    }

    /// The same rows as a flat vector (buffer entry i = row i).
    func flattened() -> Vector {
        switch encoding {
        case .flat:
            return self
        case .constant, .dictionary:
            let indices = unified.indices!
            return gather(indices)
        }
    }

    /// A flat vector of the buffer entries at `indices`.
    private func gather(_ indices: [UInt32]) -> Vector {
        let newValidity: [UInt8]? = validity.map { valid in indices.map { valid[Int($0)] } }
        let newBuffer: VectorBuffer
        switch buffer {
        case .int64(let values): newBuffer = .int64(values.withUnsafeBufferPointer { v in indices.map { v[Int($0)] } })
        case .double(let values): newBuffer = .double(values.withUnsafeBufferPointer { v in indices.map { v[Int($0)] } })
        case .bool(let values): newBuffer = .bool(values.withUnsafeBufferPointer { v in indices.map { v[Int($0)] } })
        case .string(let strings): newBuffer = .string(strings.gather(indices))
        case .none: newBuffer = .none
        }
        return Vector(type: type, buffer: newBuffer, validity: newValidity, encoding: .flat, count: indices.count)
    }
}

/// Buffer indices and validity of a vector in one shape: `indices == nil` means row i is
/// entry i; validity is per buffer entry. DuckDB's UnifiedVectorFormat.
struct UnifiedFormat {
    var indices: [UInt32]?
    var validity: [UInt8]?
}

private let sharedZeroIndices = [UInt32](repeating: 0, count: vectorSize)

/// `count` zero indices; shares one array for batch-sized requests.
func zeroIndices(_ count: Int) -> [UInt32] {
    count <= vectorSize ? (count == vectorSize ? sharedZeroIndices : Array(sharedZeroIndices[0..<count]))
        : [UInt32](repeating: 0, count: count)
}

/// A set of vectors of equal length: one batch flowing between operators.
struct DataChunk {
    var columns: [Vector]
    var count: Int

    init(columns: [Vector], count: Int) {
        self.columns = columns
        self.count = count
    }

    /// Keeps the rows at `selection` in every column.
    func sliced(_ selection: [UInt32]) -> DataChunk {
        DataChunk(columns: columns.map { $0.sliced(selection) }, count: selection.count)
    }
}

/// Appends strings into one byte buffer with offsets.
struct StringColumnBuilder {
    var offsets: [Int32]
    var bytes: [UInt8]

    init(capacity: Int) {
        offsets = [0]
        offsets.reserveCapacity(capacity + 1)
        bytes = []
        bytes.reserveCapacity(capacity * 8)
    }

    mutating func append(_ value: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: value)
        offsets.append(Int32(bytes.count))
    }

    mutating func append(_ value: [UInt8]) {
        bytes.append(contentsOf: value)
        offsets.append(Int32(bytes.count))
    }

    mutating func append(_ value: String) {
        bytes.append(contentsOf: value.utf8)
        offsets.append(Int32(bytes.count))
    }

    mutating func appendEmpty() {
        offsets.append(Int32(bytes.count))
    }

    func build() -> StringColumn { StringColumn(offsets: offsets, bytes: bytes) }
}
