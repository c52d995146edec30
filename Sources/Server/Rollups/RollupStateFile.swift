import Core
import Crypto
import Foundation
import Query

/// The rollups of every project saved next to the warehouse (`<data>/rollups/state.bin`), so
/// a start reads them and follows only the commits after them instead of reading every events
/// segment again.
///
/// Format (little-endian; version `formatVersion`):
/// 1. header: magic `TRKROLUP`, format version (u32), the log version the rollups reflect
///    (i64) and that commit's timestamp (i64: a warehouse restored from elsewhere with the same
///    version number is told apart), the number of projects (u32);
/// 2. per project: its id, then either `1` and why it is unusable, or `0` and its site-key and
///    site-hash tables (arena bytes and starts), its dimension dictionaries (overflowed flag and
///    values), its states (tuples of codes), its sorted `first_seen`, the absolute hour of its
///    first chunk, the first hour of its window and per hour the entries (`ProjectRollup.PersistedHour`);
/// 3. SHA-256 of everything before it.
/// Arrays are a u64 count then the elements. Aggregates are not stored: `restore` recounts
/// them, so a file can never hold aggregates that disagree with its entries.
///
/// Reading checks the digest, then every length against the bytes left and every id and code
/// against its table (`ProjectRollup.restore`): a damaged, truncated, hostile or older-format
/// file is refused as a whole, and the caller builds from the segments instead.
enum RollupStateFile {
    static let magic = Array("TRKROLUP".utf8)
    static let formatVersion: UInt32 = 1
    static let fileName = "state.bin"
    static let digestBytes = 32

    struct Header: Equatable {
        var logVersion: Int
        var commitTimestampMicros: Int64
    }

    struct FormatError: Error, CustomStringConvertible {
        var message: String
        var description: String { "rollup state file: \(message)" }
    }

    /// The host writes its integers as they are in memory: little-endian only.
    static var hostIsLittleEndian: Bool { 1.littleEndian == 1 }

    // MARK: Writing

    /// Writes `projects` (each under its read lock) atomically to `path`: a temp file in the
    /// same folder, fsynced, renamed over the old one.
    static func write(path: String, header: Header, projects: [ProjectRollup]) throws {
        guard hostIsLittleEndian else { throw FormatError(message: "only little-endian hosts write state files") }
        try FileIO.writeFileAtomically(path) { fd, temp in
            var writer = Writer(fd: fd, path: temp)
            writer.bytes(magic)
            writer.integer(formatVersion)
            writer.integer(Int64(header.logVersion))
            writer.integer(header.commitTimestampMicros)
            writer.integer(UInt32(projects.count))
            for project in projects {
                try project.lock.withReadLock { try encode(project, into: &writer) }
                try writer.flushIfFull()
            }
            try writer.flush(hashing: true)
            let digest = Array(writer.hasher.finalize())
            writer.buffer.append(contentsOf: digest)
            try writer.flush(hashing: false)
        }
    }

    private static func encode(_ project: ProjectRollup, into writer: inout Writer) throws {
        try writer.string(project.projectID)
        if let reason = project.unusableReason {
            writer.integer(UInt8(1))
            try writer.string(reason)
            return
        }
        writer.integer(UInt8(0))
        try project.forEachPersistedPart(tables: { sites, hashes, dimensions, stateCodes, firstSeen, baseHour, windowStartHour, hourCount in
            for table in [sites, hashes] {
                let storage = table.storage
                try writer.array(storage.arena)
                try writer.array(storage.starts.map { Int64($0) })
            }
            writer.integer(UInt32(dimensions.count))
            for dictionary in dimensions {
                writer.integer(UInt8(dictionary.overflowed ? 1 : 0))
                writer.integer(UInt32(dictionary.values.count))
                for value in dictionary.values { try writer.value(value) }
            }
            try writer.array(stateCodes)
            try writer.array(firstSeen)
            writer.integer(baseHour)
            writer.integer(windowStartHour)
            writer.integer(UInt32(hourCount))
            try writer.flushIfFull()
        }, hour: { chunk in
            try writer.array(chunk.times)
            try writer.array(chunk.ties)
            try writer.array(chunk.sites)
            try writer.array(chunk.states)
            try writer.array(chunk.skipTimes)
            try writer.array(chunk.skipHashes)
            try writer.array(chunk.skipStates)
            try writer.flushIfFull()
        })
    }

    /// Buffered writes to a file descriptor, hashing every byte but the digest.
    struct Writer {
        let fd: Int32
        let path: String
        var buffer: [UInt8] = []
        var hasher = SHA256()
        static let flushBytes = 4 << 20

        init(fd: Int32, path: String) {
            self.fd = fd
            self.path = path
            buffer.reserveCapacity(Self.flushBytes + (1 << 16))
        }

        mutating func bytes(_ bytes: [UInt8]) { buffer.append(contentsOf: bytes) }

        mutating func integer<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
        }

        mutating func array<T: FixedWidthInteger>(_ values: [T]) throws {
            integer(UInt64(values.count))
            try values.withUnsafeBytes { raw in
                var offset = 0
                // Large arrays go straight to the file in slices, not through one big buffer.
                while offset < raw.count {
                    let end = min(raw.count, offset + Self.flushBytes)
                    buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[offset..<end]))
                    offset = end
                    if buffer.count >= Self.flushBytes { try flush(hashing: true) }
                }
            }
        }

        mutating func string(_ text: String) throws {
            try array(Array(text.utf8))
        }

        mutating func value(_ value: Value) throws {
            switch value {
            case .null: integer(UInt8(0))
            case .int64(let n): integer(UInt8(1)); integer(n)
            case .double(let d): integer(UInt8(2)); integer(d.bitPattern)
            case .bool(let b): integer(UInt8(3)); integer(UInt8(b ? 1 : 0))
            case .string(let s): integer(UInt8(4)); try string(s)
            case .timestamp(let t): integer(UInt8(5)); integer(t)
            }
        }

        mutating func flushIfFull() throws {
            if buffer.count >= Self.flushBytes { try flush(hashing: true) }
        }

        mutating func flush(hashing: Bool) throws {
            guard !buffer.isEmpty else { return }
            try buffer.withUnsafeBytes { raw in
                if hashing { hasher.update(bufferPointer: raw) }
                try FileIO.writeAll(fd: fd, raw, path: path)
            }
            buffer.removeAll(keepingCapacity: true)
        }
    }

    // MARK: Reading

    /// The header of the file at `path` and its projects restored into fresh rollups. Throws
    /// `FormatError` (or a file error) for anything but a whole, intact file of this format.
    /// `bufferBytes`: the read buffer (tests make it tiny, so every path of `Reader` runs).
    static func read(path: String, windowHours: Int64, bufferBytes: Int = Reader.bufferBytesDefault) throws -> (header: Header, projects: [ProjectRollup]) {
        guard hostIsLittleEndian else { throw FormatError(message: "only little-endian hosts read state files") }
        return try FileIO.withOpenFile(path) { fd, size in
            try read(fd: fd, size: Int(size), path: path, windowHours: windowHours, bufferBytes: bufferBytes)
        }
    }

    private static func read(fd: Int32, size: Int, path: String, windowHours: Int64, bufferBytes: Int) throws -> (header: Header, projects: [ProjectRollup]) {
        guard size >= magic.count + 4 + 8 + 8 + 4 + digestBytes else { throw FormatError(message: "\(size) bytes is too short") }
        let bodyCount = size - digestBytes
        // Streamed: the file (305 MB at 30M events in the window) is never held whole beside
        // the rollups decoded from it. Every length is checked against the bytes left as it is
        // read, so a damaged file cannot make the decoding overrun or over-allocate; the digest
        // of every body byte, hashed as it is read, decides at the end whether it is used.
        var reader = Reader(fd: fd, path: path, end: bodyCount, bufferBytes: bufferBytes)
        guard try reader.bytes(magic.count) == magic else { throw FormatError(message: "not a rollup state file") }
        let format: UInt32 = try reader.integer()
        guard format == formatVersion else { throw FormatError(message: "format \(format), this build reads \(formatVersion)") }
        let logVersion: Int64 = try reader.integer()
        let timestamp: Int64 = try reader.integer()
        let projectCount: UInt32 = try reader.integer()
        guard logVersion > 0, logVersion < Int64(Int32.max) else { throw FormatError(message: "log version \(logVersion)") }
        var projects: [ProjectRollup] = []
        var seen = Set<String>()
        for _ in 0..<projectCount {
            let project = try decodeProject(&reader, windowHours: windowHours)
            guard seen.insert(project.projectID).inserted else { throw FormatError(message: "project \(project.projectID) twice") }
            projects.append(project)
        }
        guard reader.offset == bodyCount else { throw FormatError(message: "\(bodyCount - reader.offset) bytes after the last project") }
        guard try reader.digestMatches() else { throw FormatError(message: "the SHA-256 digest does not match: the file is damaged") }
        return (Header(logVersion: Int(logVersion), commitTimestampMicros: timestamp), projects)
    }

    private static func decodeProject(_ reader: inout Reader, windowHours: Int64) throws -> ProjectRollup {
        let projectID = try reader.string()
        let rollup = ProjectRollup(projectID: projectID, windowHours: windowHours)
        let unusable: UInt8 = try reader.integer()
        if unusable == 1 {
            rollup.markUnusable(try reader.string())
            return rollup
        }
        guard unusable == 0 else { throw FormatError(message: "project \(projectID): bad flag \(unusable)") }
        func table() throws -> ByteKeyTable {
            let arena: [UInt8] = try reader.array()
            let starts: [Int64] = try reader.array()
            guard let table = ByteKeyTable(arena: arena, starts: starts.map { Int(clamping: $0) }) else {
                throw FormatError(message: "project \(projectID): a key table is not valid")
            }
            return table
        }
        let siteIDs = try table()
        let hashIDs = try table()
        let dimensionCount: UInt32 = try reader.integer()
        guard Int(dimensionCount) == RollupDimensions.names.count else { throw FormatError(message: "project \(projectID): \(dimensionCount) dimensions") }
        var dimensions: [DimensionDictionary] = []
        for _ in 0..<dimensionCount {
            let overflowed: UInt8 = try reader.integer()
            let count: UInt32 = try reader.integer()
            guard Int(count) <= DimensionDictionary.codesMax, overflowed <= 1 else { throw FormatError(message: "project \(projectID): bad dictionary") }
            var values: [Value] = []
            values.reserveCapacity(Int(count))
            for _ in 0..<count { values.append(try reader.value()) }
            guard let dictionary = DimensionDictionary(values: values, overflowed: overflowed == 1) else {
                throw FormatError(message: "project \(projectID): a dictionary repeats a value")
            }
            dimensions.append(dictionary)
        }
        let stateCodes: [UInt16] = try reader.array()
        let firstSeen: [Int64] = try reader.array()
        let baseHour: Int64 = try reader.integer()
        let windowStartHour: Int64 = try reader.integer()
        let hourCount: UInt32 = try reader.integer()
        guard Int64(hourCount) <= ProjectRollup.hoursMax else { throw FormatError(message: "project \(projectID): \(hourCount) hours") }
        var hours: [ProjectRollup.PersistedHour] = []
        hours.reserveCapacity(Int(hourCount))
        for _ in 0..<hourCount {
            var hour = ProjectRollup.PersistedHour()
            hour.times = try reader.array()
            hour.ties = try reader.array()
            hour.sites = try reader.array()
            hour.states = try reader.array()
            hour.skipTimes = try reader.array()
            hour.skipHashes = try reader.array()
            hour.skipStates = try reader.array()
            hours.append(hour)
        }
        let persisted = ProjectRollup.Persisted(siteIDs: siteIDs, hashIDs: hashIDs, dimensions: dimensions, stateCodes: stateCodes,
                                                firstSeenSorted: firstSeen, baseHour: baseHour,
                                                windowStartHour: windowStartHour, hours: hours)
        if let problem = rollup.restore(persisted) { throw FormatError(message: "project \(projectID): \(problem)") }
        return rollup
    }

    /// Bounds-checked reads of the file's body (`0..<end`) in order, through a buffer of at
    /// most `bufferBytes` (an array larger than that is read straight into its storage). Every
    /// byte is read from the file once and hashed as it arrives (`digestMatches`).
    struct Reader {
        static let bufferBytesDefault = 1 << 20
        let bufferBytes: Int
        let fd: Int32
        let path: String
        let end: Int
        /// The next byte to decode.
        private(set) var offset = 0
        /// `buffer` holds the file's bytes `bufferStart..<bufferStart + buffer.count`; bytes
        /// before `bufferStart + buffer.count` have been read and hashed.
        private var buffer: [UInt8] = []
        private var bufferStart = 0
        private var hasher = SHA256()

        init(fd: Int32, path: String, end: Int, bufferBytes: Int) {
            self.bufferBytes = max(16, bufferBytes)
            self.fd = fd
            self.path = path
            self.end = end
        }

        private var readEnd: Int { bufferStart + buffer.count }

        /// Fills `target` from file position `position` (fewer bytes only where the file ends);
        /// returns the bytes read.
        private func readFully(into target: UnsafeMutableRawBufferPointer, at position: Int) throws -> Int {
            var done = 0
            while done < target.count {
                let n = pread(fd, target.baseAddress! + done, target.count - done, off_t(position + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileIOError(operation: "read", path: path, errno: errno)
                }
                if n == 0 { break }
                done += n
            }
            return done
        }

        /// Reads the body bytes at `readEnd` into `target` and hashes them.
        private mutating func readAndHash(into target: UnsafeMutableRawBufferPointer) throws {
            guard try readFully(into: target, at: readEnd) == target.count else { throw FormatError(message: "the file shrank while it was read") }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(target))
        }

        /// Makes the bytes `offset..<offset + count` (`count` ≤ the bytes left, checked by the
        /// caller) available in `buffer`.
        private mutating func fill(_ count: Int) throws {
            guard offset + count > readEnd else { return }
            // Keep the unread bytes, then read up to a buffer's worth (at least what is asked).
            let unread = buffer[(offset - bufferStart)...]
            let more = min(end - readEnd, max(count - unread.count, bufferBytes - unread.count))
            var next = [UInt8](repeating: 0, count: more)
            try next.withUnsafeMutableBytes { try readAndHash(into: $0) }
            buffer = Array(unread) + next
            bufferStart = offset
        }

        mutating func bytes(_ count: Int) throws -> [UInt8] {
            guard count >= 0, count <= end - offset else { throw FormatError(message: "truncated at byte \(offset)") }
            try fill(count)
            defer { offset += count }
            return Array(buffer[(offset - bufferStart)..<(offset - bufferStart + count)])
        }

        mutating func integer<T: FixedWidthInteger>() throws -> T {
            let size = MemoryLayout<T>.size
            guard size <= end - offset else { throw FormatError(message: "truncated at byte \(offset)") }
            try fill(size)
            defer { offset += size }
            let at = offset - bufferStart
            return buffer.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: at, as: T.self)) }
        }

        mutating func array<T: FixedWidthInteger>() throws -> [T] {
            let count: UInt64 = try integer()
            let stride = MemoryLayout<T>.stride
            guard count <= UInt64((end - offset) / stride) else { throw FormatError(message: "an array of \(count) overruns the file at byte \(offset)") }
            let byteCount = Int(count) * stride
            if byteCount <= bufferBytes || byteCount <= readEnd - offset {
                try fill(byteCount)
                let start = offset - bufferStart
                offset += byteCount
                return [T](unsafeUninitializedCapacity: Int(count)) { target, initialized in
                    buffer.withUnsafeBytes { raw in
                        UnsafeMutableRawBufferPointer(target).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start..<start + byteCount]))
                    }
                    initialized = Int(count)
                }
            }
            // Large: the buffered part, then the rest straight from the file.
            let buffered = min(byteCount, readEnd - offset)
            let start = offset - bufferStart
            var failure: (any Error)?
            let values = [T](unsafeUninitializedCapacity: Int(count)) { target, initialized in
                let raw = UnsafeMutableRawBufferPointer(target)
                buffer.withUnsafeBytes { source in
                    raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<start + buffered]))
                }
                do {
                    try readAndHash(into: UnsafeMutableRawBufferPointer(rebasing: raw[buffered..<byteCount]))
                } catch {
                    failure = error
                }
                initialized = Int(count)
            }
            if let failure { throw failure }
            bufferStart += buffer.count + (byteCount - buffered)
            buffer = []
            offset += byteCount
            return values
        }

        /// After the last body byte: whether the digest stored after the body is the SHA-256
        /// of every body byte read.
        mutating func digestMatches() throws -> Bool {
            guard offset == end, readEnd == end else { return false }
            var stored = [UInt8](repeating: 0, count: RollupStateFile.digestBytes)
            guard try stored.withUnsafeMutableBytes({ try readFully(into: $0, at: end) }) == stored.count else { return false }
            return Array(hasher.finalize()) == stored
        }

        mutating func string() throws -> String {
            let utf8: [UInt8] = try array()
            guard let text = String(validating: utf8, as: UTF8.self) else { throw FormatError(message: "a string is not UTF-8 at byte \(offset)") }
            return text
        }

        mutating func value() throws -> Value {
            let tag: UInt8 = try integer()
            switch tag {
            case 0: return .null
            case 1: return .int64(try integer())
            case 2: return .double(Double(bitPattern: try integer()))
            case 3:
                let flag: UInt8 = try integer()
                return .bool(flag != 0)
            case 4: return .string(try string())
            case 5: return .timestamp(try integer())
            default: throw FormatError(message: "value tag \(tag) at byte \(offset)")
            }
        }
    }
}
