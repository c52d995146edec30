#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An operating-system error from a file operation, with the path and what was attempted.
public struct FileIOError: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let path: String
    public let errno: Int32

    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var isDiskFull: Bool { errno == ENOSPC || errno == EDQUOT }
    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Thin POSIX helpers: the durability steps (fsync of files and directories, rename) must be
/// explicit, which Foundation's file APIs do not let us control.
public enum FileIO {
    /// Names the calling thread for `top -H`, `perf` and `/proc/*/task/*/comm` (Foundation's
    /// `Thread.name` does not reach the kernel here). Linux keeps at most 15 bytes.
    public static func nameCurrentThread(_ name: String) {
        #if os(Linux)
        // `pthread_setname_np` is not exported to Swift's Glibc module; this is what it does.
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        #endif
    }

    /// The calling thread's kernel id (`gettid`, which Swift's Glibc module does not export),
    /// read from the `/proc/thread-self` link (`/proc/<pid>/task/<tid>`); nil elsewhere.
    public static func currentThreadID() -> Int32? {
        #if os(Linux)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = readlink("/proc/thread-self", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.split(separator: "/").last.flatMap { Int32($0) }
        #else
        return nil
        #endif
    }

    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws {
        if path.isEmpty || isDirectory(path) { return }
        let parent = parentDirectory(path)
        if parent != path { try makeDirectories(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw FileIOError(operation: "mkdir", path: path, errno: errno)
        }
    }

    public static func parentDirectory(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    public static func lastComponent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Opens `path` (`flags` and close-on-exec), calls `body` with the descriptor and the
    /// file's size, and closes it.
    public static func withOpenFile<Result>(_ path: String, flags: Int32 = O_RDONLY,
                                            _ body: (_ fd: Int32, _ size: Int64) throws -> Result) throws -> Result {
        let fd = open(path, flags | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileIOError(operation: "stat", path: path, errno: errno) }
        return try body(fd, Int64(info.st_size))
    }

    public static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int64(info.st_size)
    }

    /// Directory entries, sorted, without `.` and `..`.
    public static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The file's bytes from `offset` (0: the whole file) to its current end.
    public static func readFile(_ path: String, fromOffset offset: Int64 = 0) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError(operation: "open", path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileIOError(operation: "stat", path: path, errno: errno) }
        let start = min(max(0, offset), Int64(info.st_size))
        guard lseek(fd, off_t(start), SEEK_SET) == off_t(start) else {
            throw FileIOError(operation: "seek", path: path, errno: errno)
        }
        var bytes = [UInt8](repeating: 0, count: Int(Int64(info.st_size) - start))
        var done = 0
        while true {
            if done == bytes.count {
                // Read as much as `fstat` said: the end, unless the file grew since. Probe with a
                // small read before growing the buffer; growing first (by the size read so far)
                // made every whole-file read briefly hold twice the file (610 MB for the rollups'
                // 305-MB state file at a 30M-event warehouse).
                var probe = [UInt8](repeating: 0, count: 64 << 10)
                let n = probe.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileIOError(operation: "read", path: path, errno: errno)
                }
                if n == 0 { break }
                bytes.append(contentsOf: probe[0..<n])
                done += n
                continue
            }
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError(operation: "read", path: path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        bytes.removeSubrange(done...)
        return bytes
    }

    public static func writeAll(fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < buffer.count {
            let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError(operation: "write", path: path, errno: errno)
            }
            offset += n
        }
    }

    public static func fsyncFile(fd: Int32, path: String) throws {
        guard fsync(fd) == 0 else { throw FileIOError(operation: "fsync", path: path, errno: errno) }
    }

    /// The file's data and the metadata needed to read it back (its size), not its timestamps.
    public static func fdatasyncFile(fd: Int32, path: String) throws {
        guard fdatasync(fd) == 0 else { throw FileIOError(operation: "fdatasync", path: path, errno: errno) }
    }

    /// fsync a directory so a rename or a new entry inside it survives a power loss.
    public static func fsyncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError(operation: "open directory", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileIOError(operation: "fsync directory", path: path, errno: errno) }
    }

    /// Writes a whole file durably: hidden temp name in the same folder, fsync, rename, fsync folder.
    /// Readers see either the old file or the complete new one. `durable: false` skips both
    /// fsyncs, for files that carry their own checksum and whose loss in a crash only costs
    /// work (an index a reader falls back from): the rename still keeps torn writes unseen.
    public static func writeFileAtomically(_ path: String, _ bytes: UnsafeRawBufferPointer, durable: Bool = true) throws {
        try writeFileAtomically(path, durable: durable) { fd, temp in try writeAll(fd: fd, bytes, path: temp) }
    }

    /// As above, the content written by `body` through the temp file's descriptor (a file
    /// streamed in pieces, never whole in memory); `body` gets the descriptor and the temp path.
    public static func writeFileAtomically(_ path: String, durable: Bool = true,
                                           _ body: (_ fd: Int32, _ tempPath: String) throws -> Void) throws {
        let directory = parentDirectory(path)
        try makeDirectories(directory)
        let temp = directory + "/.tmp-" + lastComponent(path) + "-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try writeFile(temp, durable: durable, body)
        guard rename(temp, path) == 0 else {
            let code = errno
            unlink(temp)
            throw FileIOError(operation: "rename", path: path, errno: code)
        }
        if durable { try fsyncDirectory(directory) }
    }

    /// Creates (or truncates) `path` and writes it with `body`, fsynced when `durable`; on any
    /// error the file is removed. For a file a caller renames into place itself, later.
    public static func writeFile(_ path: String, durable: Bool = true,
                                 _ body: (_ fd: Int32, _ path: String) throws -> Void) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIOError(operation: "create", path: path, errno: errno) }
        do {
            try body(fd, path)
            if durable { try fsyncFile(fd: fd, path: path) }
        } catch {
            close(fd)
            unlink(path)
            throw error
        }
        close(fd)
    }

    public static func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { (buffer) throws in try writeFileAtomically(path, buffer) }
    }

    /// Creates `path` only if it does not exist yet (put-if-absent), durably.
    /// Returns false when another writer got there first.
    public static func createExclusively(_ path: String, _ bytes: [UInt8]) throws -> Bool {
        let directory = parentDirectory(path)
        try makeDirectories(directory)
        let temp = directory + "/.tmp-" + lastComponent(path) + "-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try writeFile(temp) { fd, temp in
            try bytes.withUnsafeBytes { (buffer) throws in try writeAll(fd: fd, buffer, path: temp) }
        }
        // link() fails with EEXIST if the target exists: an atomic put-if-absent on POSIX.
        let linked = link(temp, path)
        let code = errno
        unlink(temp)
        if linked != 0 {
            if code == EEXIST { return false }
            throw FileIOError(operation: "link", path: path, errno: code)
        }
        try fsyncDirectory(directory)
        return true
    }

    /// Runs `body` holding an exclusive `flock` on `lockPath` (created if missing), waiting for
    /// other holders in this or another process: the one way read-modify-write files here
    /// (the registry, an outbox, the lifecycle state) keep concurrent editors apart.
    public static func withExclusiveLock<Result>(_ lockPath: String, _ body: () throws -> Result) throws -> Result {
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileIOError(operation: "open lock", path: lockPath, errno: errno) }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw FileIOError(operation: "flock", path: lockPath, errno: errno) }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    public static func remove(_ path: String) {
        unlink(path)
    }

    /// Removes a large file in steps: truncates it by `stepBytes` at a time with a pause in
    /// between, then unlinks the empty file. Freeing a 256 MB file in one `unlink` holds the
    /// filesystem (and, on a volume mounted with `discard`, the device) for ~100 ms, and every
    /// ingest fsync issued meanwhile waits: 45–98 ms stalls measured on the reference VM,
    /// 5–8 ms when freed in 8 MB steps (`Benchmarks/ingest/discard.py`). RocksDB's rate-limited
    /// deletion exists for the same reason. For background threads only: it sleeps.
    public static func removeGradually(_ path: String, stepBytes: Int64 = 8 << 20, pauseMicros: UInt32 = 5_000) {
        if var size = fileSize(path), size > stepBytes {
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            if fd >= 0 {
                while size > 0 {
                    size = max(0, size - stepBytes)
                    guard ftruncate(fd, off_t(size)) == 0 else { break }
                    if size > 0 { usleep(pauseMicros) }
                }
                close(fd)
            }
        }
        unlink(path)
    }

    /// Recursively lists regular files under `root`, as paths, sorted; hidden names (`.x`)
    /// are skipped unless `includeHidden` (recovery must see `.tmp-` files).
    public static func walkFiles(_ root: String, includeHidden: Bool = false) -> [String] {
        var result: [String] = []
        for name in list(root) where includeHidden || !name.hasPrefix(".") {
            let path = root + "/" + name
            if isDirectory(path) {
                result.append(contentsOf: walkFiles(path, includeHidden: includeHidden))
            } else {
                result.append(path)
            }
        }
        return result
    }
}
