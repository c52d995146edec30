#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// POSIX file helpers shared by the writer and the reader.
func renameDurably(from source: String, to destination: String, directory: String) throws {
    if rename(source, destination) != 0 { throw ParquetWriter.ioError("rename to \(destination)", source) }
    let directoryDescriptor = open(directory, O_RDONLY | O_CLOEXEC)
    if directoryDescriptor >= 0 {
        // The rename is only durable once the directory entry is on disk.
        _ = fsync(directoryDescriptor)
        _ = close(directoryDescriptor)
    }
}

func unlinkQuietly(_ path: String) {
    _ = unlink(path)
}

/// Source of a Parquet file's bytes: an open descriptor (read with pread) or memory.
/// Immutable after `init` (pread keeps no file position), so it is Sendable.
final class ParquetByteSource: Sendable {
    private let descriptor: Int32
    private let memory: [UInt8]?
    let size: Int
    let path: String?

    init(path: String) throws {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ParquetWriter.ioError("open", path) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            let error = ParquetWriter.ioError("fstat", path)
            close(descriptor)
            throw error
        }
        size = Int(info.st_size)
        memory = nil
        self.path = path
    }

    init(bytes: [UInt8], name: String? = nil) {
        descriptor = -1
        memory = bytes
        size = bytes.count
        path = name
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// Reads `count` bytes at `offset`; the range must lie inside the file.
    func read(offset: Int, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw ParquetError(.truncated, "read of \(count) bytes at \(offset) past the end of a \(size)-byte file", path: path)
        }
        if let memory { return Array(memory[offset..<offset + count]) }
        var output = [UInt8](repeating: 0, count: count)
        var done = 0
        try output.withUnsafeMutableBytes { raw in
            while done < count {
                let got = pread(descriptor, raw.baseAddress! + done, count - done, off_t(offset + done))
                if got < 0 {
                    if errno == EINTR { continue }
                    throw ParquetWriter.ioError("pread", path ?? "")
                }
                if got == 0 { throw ParquetError(.truncated, "file shrank while reading", path: path) }
                done += got
            }
        }
        return output
    }
}
