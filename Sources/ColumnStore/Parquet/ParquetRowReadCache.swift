import Synchronization

/// What row-range reads (`ParquetFileReader.readColumn(rowGroup:column:rowRanges:cache:)`) keep
/// between calls, for a caller that reads a few rows of the same chunks again and again (the
/// sites listing: each page of 50 sites touches every column of ~30 row groups):
/// - per chunk, its page table (each page's header, byte range and rows), so a later read
///   takes from the file only the data pages it decodes, not the whole chunk;
/// - per chunk, its decoded dictionary, up to `dictionaryBytesMax` in all (then the least
///   recently stored go first).
/// Keys name the file by path: files are never rewritten in place (a new version is a new
/// path), and `forget(paths:)` drops the entries of files no longer read.
public final class ParquetRowReadCache: Sendable {
    struct ChunkKey: Hashable {
        var path: String
        var rowGroup: Int
        var column: Int
    }

    private struct State {
        var pages: [ChunkKey: ParquetFileReader.ChunkPages] = [:]
        var dictionaries: [ChunkKey: (dictionary: ParquetDictionary, bytes: Int, stamp: Int)] = [:]
        var dictionaryBytes = 0
        var stamp = 0
    }

    private let state = Mutex(State())
    public let dictionaryBytesMax: Int

    public init(dictionaryBytesMax: Int = 64 << 20) {
        self.dictionaryBytesMax = dictionaryBytesMax
    }

    func pages(_ key: ChunkKey) -> ParquetFileReader.ChunkPages? {
        state.withLock { $0.pages[key] }
    }

    func setPages(_ pages: ParquetFileReader.ChunkPages, for key: ChunkKey) {
        state.withLock { $0.pages[key] = pages }
    }

    func dictionary(_ key: ChunkKey) -> ParquetDictionary? {
        state.withLock { $0.dictionaries[key]?.dictionary }
    }

    func setDictionary(_ dictionary: ParquetDictionary, for key: ChunkKey) {
        let bytes = Self.bytes(of: dictionary)
        guard bytes <= dictionaryBytesMax else { return }
        state.withLock { state in
            if let old = state.dictionaries.removeValue(forKey: key) { state.dictionaryBytes -= old.bytes }
            // Oldest first until the new one fits (a budget of a few hundred dictionaries:
            // one scan of them per eviction is cheap beside decoding one).
            while state.dictionaryBytes + bytes > dictionaryBytesMax,
                  let oldest = state.dictionaries.min(by: { $0.value.stamp < $1.value.stamp }) {
                state.dictionaries.removeValue(forKey: oldest.key)
                state.dictionaryBytes -= oldest.value.bytes
            }
            state.stamp += 1
            state.dictionaries[key] = (dictionary, bytes, state.stamp)
            state.dictionaryBytes += bytes
        }
    }

    /// Drops the entries of the files `paths` (no longer read).
    public func forget(paths: Set<String>) {
        guard !paths.isEmpty else { return }
        state.withLock { state in
            state.pages = state.pages.filter { !paths.contains($0.key.path) }
            for (key, entry) in state.dictionaries where paths.contains(key.path) {
                state.dictionaries.removeValue(forKey: key)
                state.dictionaryBytes -= entry.bytes
            }
        }
    }

    /// Files with entries held now.
    var paths: Set<String> {
        state.withLock { Set($0.pages.keys.map(\.path)).union($0.dictionaries.keys.map(\.path)) }
    }

    /// Decoded dictionary bytes held now.
    public var dictionaryBytes: Int { state.withLock { $0.dictionaryBytes } }
    /// Chunks whose page table is held now.
    public var chunkCount: Int { state.withLock { $0.pages.count } }

    static func bytes(of dictionary: ParquetDictionary) -> Int {
        switch dictionary {
        case .int64(let values): values.count * 8
        case .double(let values): values.count * 8
        case .bool(let values): values.count
        case .strings(let values): values.bytes.count + values.offsets.count * 4
        }
    }
}
