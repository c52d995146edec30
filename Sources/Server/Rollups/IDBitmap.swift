/// A set of dense ids (one project's sites or site hashes) as a bitmap of 64-bit words.
/// Day sets of a rollup are these; unions for a range OR their words, so a distinct count
/// over 90 days is a few hundred thousand word operations, not a hash set of strings.
struct IDBitmap: Sendable {
    private(set) var words: [UInt64] = []
    /// Number of ids in the set, kept as ids are inserted.
    private(set) var count = 0

    /// Adds `id`; returns whether it was new.
    @discardableResult
    mutating func insert(_ id: UInt32) -> Bool {
        let word = Int(id >> 6)
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word - words.count + 1)) }
        let bit = UInt64(1) << UInt64(id & 63)
        if words[word] & bit != 0 { return false }
        words[word] |= bit
        count += 1
        return true
    }

    func contains(_ id: UInt32) -> Bool {
        let word = Int(id >> 6)
        return word < words.count && words[word] & (UInt64(1) << UInt64(id & 63)) != 0
    }
}

/// The union being built for one distinct count: words sized for every id of the project,
/// so ORing a day's bitmap or inserting an hour's ids never reallocates.
struct IDUnion {
    private(set) var words: [UInt64]

    init(idCount: Int) {
        words = [UInt64](repeating: 0, count: (idCount + 63) >> 6)
    }

    mutating func formUnion(_ bitmap: IDBitmap) {
        bitmap.words.withUnsafeBufferPointer { source in
            words.withUnsafeMutableBufferPointer { target in
                let n = min(source.count, target.count)
                for index in 0..<n { target[index] |= source[index] }
            }
        }
    }

    mutating func insert(_ id: UInt32) {
        words[Int(id >> 6)] |= UInt64(1) << UInt64(id & 63)
    }

    /// Inserts `id` and says whether it was new (the latest-event scan's "seen" set).
    mutating func testAndInsert(_ id: UInt32) -> Bool {
        let word = Int(id >> 6), bit = UInt64(1) << UInt64(id & 63)
        if words[word] & bit != 0 { return false }
        words[word] |= bit
        return true
    }

    var count: Int {
        words.withUnsafeBufferPointer { buffer in
            var total = 0
            for word in buffer { total &+= word.nonzeroBitCount }
            return total
        }
    }
}
