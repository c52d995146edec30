import ColumnStore

// Accessors the engine needs on `StringColumn`, written against its stored properties only
// so they work unchanged on ColumnStore's type once `ColumnData.swift` here is deleted.
extension StringColumn {
    /// The string at `index`, decoded as UTF-8 (invalid bytes are repaired).
    public func string(at index: Int) -> String {
        let start = Int(offsets[index]), end = Int(offsets[index + 1])
        return bytes.withUnsafeBufferPointer { buffer in
            String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<end]), as: UTF8.self)
        }
    }

    func range(_ start: Int, _ end: Int) -> StringColumn {
        let base = offsets[start]
        let newOffsets = offsets[start...end].map { $0 - base }
        return StringColumn(offsets: newOffsets, bytes: Array(bytes[Int(base)..<Int(offsets[end])]))
    }

    func gather(_ indices: [UInt32]) -> StringColumn {
        var builder = StringColumnBuilder(capacity: indices.count)
        bytes.withUnsafeBufferPointer { bytesBuffer in
            offsets.withUnsafeBufferPointer { offsetBuffer in
                for index in indices {
                    let start = Int(offsetBuffer[Int(index)]), end = Int(offsetBuffer[Int(index) + 1])
                    builder.append(UnsafeBufferPointer(rebasing: bytesBuffer[start..<end]))
                }
            }
        }
        return builder.build()
    }

    /// Calls `body` with the bytes of entry `index`.
    @inline(__always)
    func withBytes<R>(at index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let start = Int(offsets[index]), end = Int(offsets[index + 1])
        return try bytes.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0[start..<end])) }
    }
}

