#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Core
import Crypto

/// How backup and restore put a file in place: a hard link where the two folders share a
/// filesystem and the file never changes in place, a copy otherwise.
enum FileTransfer {
    /// The source disappeared (a merge replaced it, the sealer or raw retention removed it).
    struct Vanished: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path) disappeared while it was copied" }
    }

    enum Placement { case linked, copied }

    /// Puts `source` at `target` (which must not exist). `allowLink` only for files that are
    /// never modified in place (Parquet segments, log files, sealed `.gz`): a link shares the
    /// inode, so a later in-place change would reach the backup too.
    static func place(_ source: String, at target: String, allowLink: Bool) throws -> Placement {
        try FileIO.makeDirectories(FileIO.parentDirectory(target))
        if allowLink {
            if link(source, target) == 0 { return .linked }
            let code = errno
            if code == ENOENT { throw Vanished(path: source) }
            // EXDEV (another filesystem), EPERM/ENOTSUP (no hard links there), EMLINK: copy.
            guard [EXDEV, EPERM, ENOTSUP, EMLINK, EOPNOTSUPP].contains(code) else {
                throw FileIOError(operation: "link", path: target, errno: code)
            }
        }
        try copy(source, to: target, bytesMax: nil)
        return .copied
    }

    /// Copies `source` to `target` (created, fsynced), at most `bytesMax` bytes when given.
    static func copy(_ source: String, to target: String, bytesMax: Int64?) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            let code = errno
            if code == ENOENT { throw Vanished(path: source) }
            throw FileIOError(operation: "open", path: source, errno: code)
        }
        defer { close(input) }
        try FileIO.makeDirectories(FileIO.parentDirectory(target))
        let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw FileIOError(operation: "create", path: target, errno: errno) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var left = bytesMax ?? Int64.max
        while left > 0 {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, Int(min(Int64($0.count), left))) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileIOError(operation: "read", path: source, errno: errno)
            }
            if count == 0 { break }
            try buffer.withUnsafeBytes { try FileIO.writeAll(fd: output, UnsafeRawBufferPointer(rebasing: $0[0..<count]), path: target) }
            left -= Int64(count)
        }
        try FileIO.fsyncFile(fd: output, path: target)
    }

    /// Size and lowercase hex SHA-256 of a file, read in 1 MiB steps.
    static func digest(_ path: String) throws -> (bytes: Int64, sha256: String) {
        let input = open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            let code = errno
            if code == ENOENT { throw Vanished(path: path) }
            throw FileIOError(operation: "open", path: path, errno: code)
        }
        defer { close(input) }
        var hasher = SHA256()
        var total: Int64 = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileIOError(operation: "read", path: path, errno: errno)
            }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            total += Int64(count)
        }
        return (total, hex(Array(hasher.finalize())))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Removes a folder and everything under it (a failed attempt's copy, a forced restore's target).
    static func removeTree(_ path: String) {
        // lstat: a symbolic link is removed, never followed into the folder it names.
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            unlink(path)
            return
        }
        for name in FileIO.list(path) { removeTree(path + "/" + name) }
        rmdir(path)
    }

    /// When `path` is `folder` or lies inside it (symbolic links resolved): the name of the
    /// entry of `folder` that holds it ("" for the folder itself); nil otherwise.
    static func topEntry(of path: String, inside folder: String) -> String? {
        func resolved(_ path: String) -> String? {
            guard let pointer = realpath(path, nil) else { return nil }
            defer { free(pointer) }
            return String(cString: pointer)
        }
        guard let inner = resolved(path), let outer = resolved(folder) else { return nil }
        if inner == outer { return "" }
        let prefix = outer == "/" ? "/" : outer + "/"
        guard inner.hasPrefix(prefix) else { return nil }
        return String(inner.dropFirst(prefix.count).split(separator: "/").first ?? "")
    }

    /// Every folder under `root` (itself included), deepest first: fsynced after links and
    /// renames so the new entries survive a power loss.
    static func directories(_ root: String) -> [String] {
        var result: [String] = []
        for name in FileIO.list(root) where FileIO.isDirectory(root + "/" + name) {
            result.append(contentsOf: directories(root + "/" + name))
        }
        result.append(root)
        return result
    }
}
