import Core
import Foundation

/// The erase index of raw files (`SubjectKeyIndex` of kind `.raw`), one pack per route and
/// day: `<data>/warehouse/_keys/raw/<route>/<YYYY>/<MM>/<DD>.keys`.
///
/// Why packs: a raw hour holds one or two files, so one index file per raw file (in a folder
/// per hour, as the raw tree has) created two inodes per hour of history; on ext4 an inode
/// creation scans for recently deleted inodes and cost compaction of small files more than
/// parsing them (12,484 files: 5.5–9.9 s of system time against 6 s of user time). A day's
/// pack is one file in a folder per month.
///
/// Grammar, little-endian:
///
///     PACK  := "THKP" u8(1) u8(0) u16(0) u32 count ENTRY{count} u32 crc32(all bytes before it)
///     ENTRY := u16 nameBytes name u32 indexBytes index
///     name  := "<HH>/<canonical raw file name>"     (UTF-8; entries sorted by name, distinct)
///     index := SubjectKeyIndex.encoded()            (kind raw; carries its own CRC-32)
///
/// Rules:
/// 1. Every writer holds the compaction lock (`.compact.lock`: compaction, erase), so a
///    read-modify-write of a pack never races another writer. Readers (an export) may read
///    while a writer replaces the pack: replacement is by rename.
/// 2. A missing, damaged or unreadable pack reads as empty: its files are searched in full.
/// 3. An entry only speaks for the bytes it covers (`SubjectKeyIndex.verdict`), so a stale
///    entry never hides a line; an erase still removes its file's entry durably before it
///    replaces the file.
/// 4. An empty pack is deleted, and the month and year folders this empties with it.
struct RawKeyIndexPack: Sendable {
    /// Encoded entries by name; decoded only when asked for.
    private(set) var entries: [String: [UInt8]] = [:]

    static let magic: [UInt8] = Array("THKP".utf8)

    /// Where a raw file's entry lives: nil for a key not shaped `<route>/YYYY/MM/DD/HH/<name>`.
    static func location(dataDirectory: String, key: String) -> (path: String, name: String)? {
        var slashes: [String.Index] = []
        var position = key.startIndex
        while slashes.count < 5, let slash = key[position...].firstIndex(of: "/") {
            slashes.append(slash)
            position = key.index(after: slash)
        }
        guard slashes.count == 5, position < key.endIndex else { return nil }
        let path = SubjectKeyIndex.root(dataDirectory: dataDirectory) + "/raw/" + key[..<slashes[3]] + ".keys"
        return (path, String(key[key.index(after: slashes[3])...]))
    }

    /// The pack at `path`; empty when there is none or it is damaged (rule 2).
    static func load(_ path: String) -> RawKeyIndexPack {
        guard let bytes = try? FileIO.readFile(path), bytes.count <= 1 << 30 else { return RawKeyIndexPack() }
        return decode(bytes) ?? RawKeyIndexPack()
    }

    func index(named name: String) -> SubjectKeyIndex? {
        guard let bytes = entries[name], let index = SubjectKeyIndex.decode(bytes), index.kind == .raw else { return nil }
        return index
    }

    var isEmpty: Bool { entries.isEmpty }

    mutating func set(_ name: String, _ index: SubjectKeyIndex?) {
        entries[name] = index.map { $0.encoded() }
    }

    // MARK: - Encoding

    func encoded() -> [UInt8] {
        var bytes = Self.magic + [1, 0, 0, 0]
        bytes.reserveCapacity(12 + entries.reduce(0) { $0 + 6 + $1.key.utf8.count + $1.value.count })
        withUnsafeBytes(of: UInt32(entries.count).littleEndian) { bytes += $0 }
        for (name, index) in entries.sorted(by: { $0.key < $1.key }) {
            withUnsafeBytes(of: UInt16(name.utf8.count).littleEndian) { bytes += $0 }
            bytes += name.utf8
            withUnsafeBytes(of: UInt32(index.count).littleEndian) { bytes += $0 }
            bytes += index
        }
        let crc = SubjectKeyIndex.crc32(bytes)
        withUnsafeBytes(of: crc.littleEndian) { bytes += $0 }
        return bytes
    }

    /// Nil for anything that is not a whole, undamaged pack.
    static func decode(_ bytes: [UInt8]) -> RawKeyIndexPack? {
        guard bytes.count >= 16, Array(bytes[0..<4]) == magic, bytes[4] == 1, bytes[5] == 0, bytes[6] == 0, bytes[7] == 0 else { return nil }
        return bytes.withUnsafeBytes { buffer -> RawKeyIndexPack? in
            func u16(_ at: Int) -> Int { Int(UInt16(littleEndian: buffer.loadUnaligned(fromByteOffset: at, as: UInt16.self))) }
            func u32(_ at: Int) -> Int { Int(UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: at, as: UInt32.self))) }
            let end = buffer.count - 4
            guard SubjectKeyIndex.crc32(UnsafeRawBufferPointer(rebasing: buffer[0..<end])) == UInt32(u32(end)) else { return nil }
            let count = u32(8)
            var pack = RawKeyIndexPack()
            var offset = 12
            var previous: String?
            for _ in 0..<count {
                guard offset + 2 <= end else { return nil }
                let nameBytes = u16(offset)
                guard offset + 2 + nameBytes + 4 <= end else { return nil }
                guard let name = String(validating: buffer[(offset + 2)..<(offset + 2 + nameBytes)], as: UTF8.self) else { return nil }
                let indexBytes = u32(offset + 2 + nameBytes)
                let start = offset + 6 + nameBytes
                guard indexBytes <= end - start else { return nil }
                if let previous, previous >= name { return nil }
                pack.entries[name] = Array(buffer[start..<(start + indexBytes)])
                previous = name
                offset = start + indexBytes
            }
            return offset == end ? pack : nil
        }
    }

    // MARK: - Files

    /// Replaces the pack at `path` (rule 4: deletes it when empty). `durable`: the new content
    /// (or the deletion) survives a crash once this returns.
    func write(to path: String, durable: Bool) throws {
        if isEmpty {
            guard unlink(path) == 0 else { return }
            if durable { try FileIO.fsyncDirectory(FileIO.parentDirectory(path)) }
            var folder = FileIO.parentDirectory(path)
            // month, year: stop at the first folder that still holds something.
            for _ in 0..<2 {
                guard rmdir(folder) == 0 else { break }
                folder = FileIO.parentDirectory(folder)
            }
            return
        }
        try encoded().withUnsafeBytes { try FileIO.writeFileAtomically(path, $0, durable: durable) }
    }

    /// Sets (or, with nil, removes) the entries of `indexes` (raw key → index), one
    /// read-modify-write per pack. Returns how many packs it wrote.
    @discardableResult
    static func update(dataDirectory: String, _ indexes: [String: SubjectKeyIndex?], durable: Bool) throws -> Int {
        var byPack: [String: [(name: String, index: SubjectKeyIndex?)]] = [:]
        for (key, index) in indexes {
            guard let location = location(dataDirectory: dataDirectory, key: key) else { continue }
            byPack[location.path, default: []].append((location.name, index))
        }
        for (path, changes) in byPack.sorted(by: { $0.key < $1.key }) {
            var pack = load(path)
            for change in changes { pack.set(change.name, change.index) }
            try pack.write(to: path, durable: durable)
        }
        return byPack.count
    }
}

/// Reads raw files' entries, keeping the last pack read: raw files come listed in key order,
/// so a day's files share one read.
struct RawKeyIndexReader {
    let dataDirectory: String
    private var cachedPath: String?
    private var cached = RawKeyIndexPack()

    init(dataDirectory: String) { self.dataDirectory = dataDirectory }

    mutating func index(key: String) -> SubjectKeyIndex? {
        guard let location = RawKeyIndexPack.location(dataDirectory: dataDirectory, key: key) else { return nil }
        if location.path != cachedPath {
            cached = RawKeyIndexPack.load(location.path)
            cachedPath = location.path
        }
        return cached.index(named: location.name)
    }
}

/// The raw files' indexes a compaction run made, written in batches (`SubjectKeyIndex` rule 3:
/// never fsynced; a batch lost to a crash is merely absent).
struct RawKeyIndexBatch {
    let dataDirectory: String
    private var pending: [String: SubjectKeyIndex?] = [:]
    private var pendingHashes = 0
    /// About 4 MiB of hashes waiting.
    static let pendingHashesMax = 1 << 20

    init(dataDirectory: String) { self.dataDirectory = dataDirectory }

    mutating func add(key: String, _ index: SubjectKeyIndex) {
        pending[key] = index
        pendingHashes += index.hashes.count
        if pendingHashes >= Self.pendingHashesMax || pending.count >= 4096 { flush() }
    }

    /// Writes what is pending; a failure leaves those files without an index.
    mutating func flush() {
        guard !pending.isEmpty else { return }
        _ = try? RawKeyIndexPack.update(dataDirectory: dataDirectory, pending, durable: false)
        pending = [:]
        pendingHashes = 0
    }
}
