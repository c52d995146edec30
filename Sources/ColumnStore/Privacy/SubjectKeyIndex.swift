import CZlib
import Core
import Foundation
import Ingest

/// The erase's per-file index (`<data>/warehouse/_keys/…`; a raw file's sits in its day's pack,
/// `RawKeyIndexPack.swift`, a segment's beside the segment's path): which privacy subjects a raw file
/// or an `events` segment may hold, so an erase opens only the files that may hold its subject
/// (`Compactor+Erase.swift`) instead of reading the whole warehouse.
///
/// What it holds, and why that is safe:
/// 1. Keys: `e:<admin_email or user_email, trimmed, lowercased>` and `s:<site_key>` — exactly
///    the values `RawSubjectMatcher` and the segment scan compare with the subject — hashed to
///    32 bits (`hash(key:)`), sorted, distinct. A file whose index lacks the subject's hash
///    cannot hold the subject; one whose index has it may (a 32-bit collision costs a read,
///    never a miss). No email or site key is stored, only these hashes.
/// 2. Coverage, so an index never speaks for bytes it did not see:
///    - raw file: `covered` bytes of its (uncompressed) content, always at a line boundary,
///      the CRC-32 of content[0, covered) and of its last ≤ 4 KiB. Lines past `covered` (an
///      open hour appended to since) are read and searched by the erase itself. A plain file
///      must be at least `covered` long and end that range with the same 4 KiB (one `pread`);
///      a sealed `.gz` must carry, in its gzip trailer, the CRC-32 and size of exactly that
///      content (its last 8 bytes). Anything else — missing, damaged (own CRC-32), or
///      describing other bytes — and the file is searched in full, as without an index.
///    - segment: its rows, bytes and received_at range must equal its log entry's.
/// 3. Writers: compaction indexes each raw file's lines as it parses them (extending the
///    previous index when it covers up to where this read starts), and each `events` segment
///    it writes; an erase indexes what it rewrites and each segment it had to read without an
///    index (a parsed raw file's index is written by the committing thread, in batches of
///    packs). Files are replaced by rename, never fsynced: a lost or torn index is just absent.
/// 4. Removal: an erase deletes a raw file's index durably before it renames the rewritten
///    file into place; retention deletes the index with the file; a merge or retention commit
///    deletes the indexes of the segments it removes, and an erase sweeps any index of its
///    project's segments that left the log (a crash in between leaves one behind).
struct SubjectKeyIndex: Equatable, Sendable {
    enum Kind: UInt8 { case raw = 1, segment = 2 }

    var kind: Kind
    /// raw: content bytes covered; segment: rows.
    var a: UInt64 = 0
    /// raw: CRC-32 of content[0, covered); segment: file bytes.
    var b: UInt64 = 0
    /// raw: CRC-32 of the last ≤ 4 KiB of content[0, covered); segment: received_at min.
    var c: UInt64 = 0
    /// segment: received_at max.
    var d: UInt64 = 0
    var hashes: [UInt32] = []

    static let magic: [UInt8] = Array("THKI".utf8)
    static let tailBytes = 4096

    /// The 32-bit hash of a key (`e:…` / `s:…`): FNV-1a 64 of its UTF-8, murmur3's fmix64,
    /// the low 32 bits. Fixed forever: indexes written by any version are read by every later one.
    static func hash(key: some Sequence<UInt8>) -> UInt32 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
        return finish(value)
    }

    /// `hash(key:)` of `prefix` ("e:" or "s:") followed by `bytes`, without building the key.
    static func hash(prefix: UInt8, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var value: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in [prefix, UInt8(ascii: ":")] {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
        for byte in bytes {
            value ^= UInt64(byte)
            value &*= 0x0000_0100_0000_01b3
        }
        return finish(value)
    }

    private static func finish(_ hashed: UInt64) -> UInt32 {
        var value = hashed
        value ^= value >> 33
        value &*= 0xff51_afd7_ed55_8ccd
        value ^= value >> 33
        value &*= 0xc4ce_b9fe_1a85_ec53
        value ^= value >> 33
        return UInt32(truncatingIfNeeded: value)
    }

    static func hash(subject: PrivacySubject) -> UInt32 {
        switch subject {
        case .email(let email): return hash(emailKey: email)
        case .site(let key): return hash(siteKey: key)
        }
    }

    static func hash(emailKey email: String) -> UInt32 {
        var text = email
        return text.withUTF8 { hash(prefix: UInt8(ascii: "e"), UnsafeRawBufferPointer($0)) }
    }

    static func hash(siteKey key: String) -> UInt32 {
        var text = key
        return text.withUTF8 { hash(prefix: UInt8(ascii: "s"), UnsafeRawBufferPointer($0)) }
    }

    func contains(_ hash: UInt32) -> Bool {
        var low = 0
        var high = hashes.count
        while low < high {
            let middle = (low + high) / 2
            if hashes[middle] < hash { low = middle + 1 } else { high = middle }
        }
        return low < hashes.count && hashes[low] == hash
    }

    // MARK: - Encoding

    /// `"THKI" u8(1) u8(kind) u16(0) u64 a u64 b u64 c u64 d u32 n u32[n] u32 crc32`, little-endian.
    func encoded() -> [UInt8] {
        var bytes = Self.magic
        bytes.reserveCapacity(48 + hashes.count * 4)
        bytes += [1, kind.rawValue, 0, 0]
        for value in [a, b, c, d] { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        withUnsafeBytes(of: UInt32(hashes.count).littleEndian) { bytes += $0 }
        for hash in hashes { withUnsafeBytes(of: hash.littleEndian) { bytes += $0 } }
        let crc = Self.crc32(bytes)
        withUnsafeBytes(of: crc.littleEndian) { bytes += $0 }
        return bytes
    }

    /// Nil for anything that is not a whole, undamaged index (the caller then reads the file).
    static func decode(_ bytes: [UInt8]) -> SubjectKeyIndex? {
        guard bytes.count >= 48, Array(bytes[0..<4]) == magic, bytes[4] == 1, let kind = Kind(rawValue: bytes[5]),
              bytes[6] == 0, bytes[7] == 0 else { return nil }
        func u32(_ at: Int) -> UInt32 { bytes.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt32.self)) } }
        func u64(_ at: Int) -> UInt64 { bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: UInt64.self)) } }
        let count = Int(u32(40))
        guard count <= (bytes.count - 48) / 4, bytes.count == 48 + count * 4 else { return nil }
        guard crc32(Array(bytes[0..<(bytes.count - 4)])) == u32(bytes.count - 4) else { return nil }
        var index = SubjectKeyIndex(kind: kind, a: u64(8), b: u64(16), c: u64(24), d: u64(32))
        index.hashes = (0..<count).map { u32(44 + $0 * 4) }
        for position in index.hashes.indices.dropFirst() where index.hashes[position - 1] >= index.hashes[position] { return nil }
        return index
    }

    static func crc32(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { crc32($0, continuing: crc) }
    }

    static func crc32(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return UInt32(truncatingIfNeeded: crc32_z(UInt(crc), base.assumingMemoryBound(to: Bytef.self), z_size_t(bytes.count)))
    }

    // MARK: - Files

    /// `<data>/warehouse/_keys`: beside `_log`, hidden from engines that read `events/` and `sites/`.
    static func root(dataDirectory: String) -> String { dataDirectory + "/warehouse/_keys" }

    static func segmentPath(dataDirectory: String, relative: String) -> String { root(dataDirectory: dataDirectory) + "/" + relative + ".keys" }

    static func load(_ path: String) -> SubjectKeyIndex? {
        guard let bytes = try? FileIO.readFile(path), bytes.count <= 1 << 30 else { return nil }
        return decode(bytes)
    }

    /// Written by rename, without fsync (an index lost to a crash is merely absent).
    func write(to path: String) throws {
        try encoded().withUnsafeBytes { try FileIO.writeFileAtomically(path, $0, durable: false) }
    }

    /// Deletes raw files' indexes (retention, an erase); `durably`: the removal survives a
    /// crash once this returns, so an index cannot come back after the caller changes the file.
    static func removeRaw(dataDirectory: String, keys: [String], durably: Bool = false) throws {
        guard !keys.isEmpty else { return }
        try RawKeyIndexPack.update(dataDirectory: dataDirectory,
                                   Dictionary(keys.map { ($0, SubjectKeyIndex?.none) }, uniquingKeysWith: { first, _ in first }),
                                   durable: durably)
    }

    /// Retention: a deleted raw file's index in the layout before packs
    /// (`_keys/raw/<raw key>.keys`), and the hour…year folders this leaves empty.
    static func removeLegacyRaw(dataDirectory: String, key: String) {
        let path = root(dataDirectory: dataDirectory) + "/raw/" + key + ".keys"
        guard unlink(path) == 0 else { return }
        var folder = FileIO.parentDirectory(path)
        for _ in 0..<4 {
            guard rmdir(folder) == 0 else { break }
            folder = FileIO.parentDirectory(folder)
        }
    }

    // MARK: - Segments

    static func segment(_ entry: SegmentEntry, hashes: [UInt32]) -> SubjectKeyIndex {
        SubjectKeyIndex(kind: .segment, a: UInt64(entry.rows), b: UInt64(entry.bytes), c: UInt64(bitPattern: entry.receivedAtMin),
                        d: UInt64(bitPattern: entry.receivedAtMax), hashes: hashes)
    }

    /// The index of a live segment when one describes exactly it.
    static func loadSegment(dataDirectory: String, _ entry: SegmentEntry) -> SubjectKeyIndex? {
        guard let index = load(segmentPath(dataDirectory: dataDirectory, relative: entry.path)),
              index == segment(entry, hashes: index.hashes) else { return nil }
        return index
    }

    /// Positions of `site_key` and `admin_email` in a batch of `WarehouseSchema.eventsBatchColumns`.
    static let batchSiteKeyPosition = EventColumns.siteKeyPosition
    static let batchAdminEmailPosition = WarehouseSchema.eventsBatchColumns.firstIndex(
        of: TableSchema.events.columns.firstIndex { $0.name == "admin_email" }!)!

    /// Writes the index of a segment just written (compaction, merge, erase); a failure only
    /// leaves the segment without one.
    static func writeSegment(dataDirectory: String, entry: SegmentEntry, hashes: [UInt32]) {
        try? segment(entry, hashes: hashes).write(to: segmentPath(dataDirectory: dataDirectory, relative: entry.path))
    }

    /// A segment's index, once a commit removed the segment (merge, retention; the sites
    /// snapshots a commit replaces have none, and unlink then does nothing).
    static func removeSegment(dataDirectory: String, relative: String) {
        unlink(segmentPath(dataDirectory: dataDirectory, relative: relative))
    }

    /// Deletes the indexes of a project's segments that are no longer live (merged, erased,
    /// dropped by retention) and leftover temps of interrupted index writes.
    static func sweepSegments(dataDirectory: String, projectID: String, live: Set<String>) {
        let root = root(dataDirectory: dataDirectory)
        let folder = root + "/" + String(WarehouseLayout.eventsPartition(projectID: projectID, month: "x").dropLast("/month=x".count))
        for path in FileIO.walkFiles(folder, includeHidden: true) {
            let name = FileIO.lastComponent(path)
            if name.hasPrefix(".tmp-") || !name.hasSuffix(".keys") || !live.contains(String(path.dropFirst(root.count + 1).dropLast(5))) {
                unlink(path)
            }
        }
    }

    // MARK: - Raw files

    /// What the index says about one raw file.
    enum RawVerdict: Equatable {
        /// No usable index: search the whole file.
        case unindexed
        /// The subject may be in content[0, covered): read the whole file.
        case mayHold
        /// Not in content[0, covered); content from `covered` on (a plain file that grew) is unindexed.
        case absent(covered: Int64, tail: Bool)
    }

    /// `reader`: the packs of raw files' indexes (`RawKeyIndexPack.swift`).
    static func verdict(reader: inout RawKeyIndexReader, file: RawLayout.RawFile, hash: UInt32) -> RawVerdict {
        verdict(index: reader.index(key: file.key), file: file, hash: hash)
    }

    static func verdict(index: SubjectKeyIndex?, file: RawLayout.RawFile, hash: UInt32) -> RawVerdict {
        guard let index, index.kind == .raw, index.a <= UInt64(Int64.max) else { return .unindexed }
        let covered = Int64(index.a)
        if file.isCompressed {
            // The gzip trailer: CRC-32 and size (mod 2^32) of the whole content.
            guard let size = FileIO.fileSize(file.path), size >= 18, let trailer = try? readRange(file.path, offset: size - 8, count: 8) else { return .unindexed }
            let crc = trailer.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) }
            let isize = trailer.withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self)) }
            guard UInt64(crc) == index.b, isize == UInt32(truncatingIfNeeded: index.a) else { return .unindexed }
            return index.contains(hash) ? .mayHold : .absent(covered: covered, tail: false)
        }
        guard let size = FileIO.fileSize(file.path), size >= covered else { return .unindexed }
        let tailStart = max(0, covered - Int64(tailBytes))
        guard let tail = try? readRange(file.path, offset: tailStart, count: Int(covered - tailStart)),
              UInt64(crc32(tail)) == index.c else { return .unindexed }
        return index.contains(hash) ? .mayHold : .absent(covered: covered, tail: size > covered)
    }

    static func readRange(_ path: String, offset: Int64, count: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let read = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else { throw FileIOError(operation: "pread", path: path, errno: read < 0 ? errno : EIO) }
            done += read
        }
        return bytes
    }

    /// A raw file's index after `content[from..<to]` (positions in the file's content, `to` at
    /// a line boundary) was read and its keys collected into `keys`; nil when the previous
    /// index does not reach `from` (the range before it was never indexed).
    /// `bytes`: content from file offset `base` (so `bytes[from - base ..< to - base]` is the range).
    static func extendRaw(previous: SubjectKeyIndex?, bytes: UnsafeRawBufferPointer, base: Int, from: Int, to: Int,
                          keys: SubjectKeySet) -> SubjectKeyIndex? {
        var crc: UInt32 = 0
        var start = 0
        var hashes = keys
        if let previous, previous.kind == .raw, previous.a >= UInt64(from), previous.a <= UInt64(to) {
            // The previous index already covers [from, previous.a): its keys were collected again.
            start = Int(previous.a)
            crc = UInt32(truncatingIfNeeded: previous.b)
            hashes.formUnion(previous.hashes)
        } else if from != 0 {
            return nil
        }
        guard start >= base else { return nil }
        crc = crc32(UnsafeRawBufferPointer(rebasing: bytes[(start - base)..<(to - base)]), continuing: crc)
        let tailStart = max(0, to - tailBytes)
        guard tailStart >= base else { return nil }
        let tail = crc32(UnsafeRawBufferPointer(rebasing: bytes[(tailStart - base)..<(to - base)]))
        return SubjectKeyIndex(kind: .raw, a: UInt64(to), b: UInt64(crc), c: UInt64(tail), d: 0, hashes: hashes.sorted())
    }
}

/// The distinct key hashes of some rows or lines.
struct SubjectKeySet: Sendable {
    private var hashes = Set<UInt32>()

    var isEmpty: Bool { hashes.isEmpty }

    mutating func insert(email: String) { hashes.insert(SubjectKeyIndex.hash(emailKey: email)) }
    mutating func insert(siteKey: String) { hashes.insert(SubjectKeyIndex.hash(siteKey: siteKey)) }
    mutating func formUnion(_ other: [UInt32]) { hashes.formUnion(other) }

    /// The keys of the rows of an events file's `site_key` and `admin_email` columns.
    mutating func insert(siteKeys: ColumnData?, adminEmails: ColumnData?) {
        if let siteKeys { Self.forEachValue(siteKeys) { hashes.insert(SubjectKeyIndex.hash(prefix: UInt8(ascii: "s"), $0)) } }
        if let adminEmails {
            Self.forEachValue(adminEmails) { bytes in
                // The common case, visible ASCII without capitals, is its own normalised form.
                if let first = bytes.first, let last = bytes.last, first > 0x20, first < 0x7F, last > 0x20, last < 0x7F,
                   !bytes.contains(where: { $0 >= 0x41 && $0 <= 0x5A || $0 >= 0x80 }) {
                    hashes.insert(SubjectKeyIndex.hash(prefix: UInt8(ascii: "e"), bytes))
                } else if let email = PrivacySubject.normalizedEmail(String(decoding: bytes, as: UTF8.self)) {
                    insert(email: email)
                }
            }
        }
    }

    /// The keys of one row group of `WarehouseSchema.eventsBatchColumns` (compaction, merge).
    mutating func insert(batch columns: [ColumnData]) {
        insert(siteKeys: columns[SubjectKeyIndex.batchSiteKeyPosition], adminEmails: columns[SubjectKeyIndex.batchAdminEmailPosition])
    }

    /// Each non-null value's UTF-8 (a dictionary chunk: each entry once).
    private static func forEachValue(_ column: ColumnData, _ body: (UnsafeRawBufferPointer) -> Void) {
        switch column.storage {
        case .dictionary(let dictionary, _):
            dictionary.bytes.withUnsafeBytes { bytes in
                for entry in 0..<dictionary.count { body(UnsafeRawBufferPointer(rebasing: bytes[dictionary.range(at: entry)])) }
            }
        case .strings(let strings):
            strings.bytes.withUnsafeBytes { bytes in
                for row in 0..<column.count where column.isValid(row) { body(UnsafeRawBufferPointer(rebasing: bytes[strings.range(at: row)])) }
            }
        default:
            return
        }
    }
    mutating func formUnion(_ other: SubjectKeySet) { hashes.formUnion(other.hashes) }

    func sorted() -> [UInt32] { hashes.sorted() }

    /// The keys of one raw line, given what the normalizer made of it: an event's `site_key`
    /// and `admin_email` are the values `RawSubjectMatcher.test` compares (both read the
    /// payload by CONTRACT §4's rules). The line is parsed like the matcher parses it when
    /// that may say more: it did not become an event (unknown project, not an envelope), it
    /// has an escape (the matcher decodes it; the normalizer's fast path declines such lines
    /// anyway), or it names `user_email` (old clients' deactivations).
    mutating func insert(line: UnsafeRawBufferPointer, row: EventRow?) {
        if let row {
            if let key = row.siteKey { insert(siteKey: key) }
            if let email = row.adminEmail.flatMap(PrivacySubject.normalizedEmail) { insert(email: email) }
        }
        guard let base = line.baseAddress else { return }
        let hasEscape = memchr(base, 0x5C, line.count) != nil
        let mentionsUserEmail = Self.mentionsUserEmail(line)
        if row != nil && !hasEscape && mentionsUserEmail, let emails = Self.userEmailStrings(line) {
            // Old clients' `user_email`: each `"user_email":"…"` of the line, without parsing it
            // (a tenth of the lines of a large backlog). A superset of the payload's own (one
            // nested elsewhere only costs an erase a read); any other shape takes the parse.
            for text in emails { if let email = PrivacySubject.normalizedEmail(text) { insert(email: email) } }
            return
        }
        if row == nil || hasEscape || mentionsUserEmail {
            for key in RawSubjectMatcher.keys(ofLine: Array(line)) {
                switch key {
                case .email(let email): insert(email: email)
                case .site(let site): insert(siteKey: site)
                }
            }
        }
    }

    /// The text of every `"user_email"` of a line without escapes, each of which must be
    /// followed by `:"<text>"`; nil when one is followed by anything else (spaces, a number,
    /// the name used as a value) or there is none: the caller then parses the line.
    static func userEmailStrings(_ line: UnsafeRawBufferPointer) -> [String]? {
        guard let base = line.baseAddress else { return nil }
        let key: StaticString = "\"user_email\""
        let needle = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        var texts: [String] = []
        var position = 0
        while let offset = RawSubjectMatcher.find(needle, in: line, from: position) {
            let start = offset + needle.count + 2
            guard start <= line.count, line[start - 2] == UInt8(ascii: ":"), line[start - 1] == UInt8(ascii: "\""),
                  let end = memchr(base + start, 0x22, line.count - start) else { return nil }
            let endOffset = UnsafeRawPointer(end) - base
            texts.append(String(decoding: UnsafeRawBufferPointer(rebasing: line[start..<endOffset]), as: UTF8.self))
            position = endOffset + 1
        }
        return texts.isEmpty ? nil : texts
    }

    /// Whether `user_email` occurs in the line: each `_` (rarer than the `u` a plain search
    /// would stop at) is checked for `user` before and `email` after it.
    static func mentionsUserEmail(_ line: UnsafeRawBufferPointer) -> Bool {
        guard let base = line.baseAddress, line.count >= 10 else { return false }
        var position = 4
        while position <= line.count - 6, let hit = memchr(base + position, 0x5F, line.count - 5 - position) {
            let offset = UnsafeRawPointer(hit) - base
            if memcmp(base + offset - 4, "user", 4) == 0 && memcmp(base + offset + 1, "email", 5) == 0 { return true }
            position = offset + 1
        }
        return false
    }
}
