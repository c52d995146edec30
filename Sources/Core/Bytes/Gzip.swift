import CZlib

public struct GzipError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable { case corrupt, tooLarge = "too_large", io }
    public let code: Code
    public let message: String
    public var description: String { message }
}

/// gzip (RFC 1952) through the system zlib.
public enum Gzip {
    /// Inflates a gzip (or zlib) body, refusing output beyond `outputBytesMax` so a small
    /// "zip bomb" cannot make us allocate gigabytes.
    public static func inflate(_ input: UnsafeRawBufferPointer, outputBytesMax: Int) throws -> [UInt8] {
        var stream = z_stream()
        // 15 + 32: auto-detect gzip or zlib headers.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw GzipError(code: .corrupt, message: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        while true {
            let status: Int32 = chunk.withUnsafeMutableBytes { out in
                stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(out.count)
                return CZlib.inflate(&stream, Z_NO_FLUSH)
            }
            let produced = chunk.count - Int(stream.avail_out)
            if output.count + produced > outputBytesMax {
                throw GzipError(code: .tooLarge, message: "inflated body is larger than \(outputBytesMax) bytes")
            }
            output.append(contentsOf: chunk[0..<produced])
            if status == Z_STREAM_END {
                // Concatenated gzip members are legal; continue if input remains.
                if stream.avail_in > 0 {
                    guard inflateReset(&stream) == Z_OK else { throw GzipError(code: .corrupt, message: "gzip member reset failed") }
                    continue
                }
                return output
            }
            if status == Z_BUF_ERROR && stream.avail_in == 0 {
                throw GzipError(code: .corrupt, message: "gzip data is truncated")
            }
            guard status == Z_OK else {
                throw GzipError(code: .corrupt, message: "gzip data is corrupt (zlib status \(status))")
            }
        }
    }

    public static func inflate(_ input: [UInt8], outputBytesMax: Int = Int.max) throws -> [UInt8] {
        try input.withUnsafeBytes { (buffer) throws -> [UInt8] in try inflate(buffer, outputBytesMax: outputBytesMax) }
    }

    /// Compresses to a single gzip member.
    public static func deflate(_ input: UnsafeRawBufferPointer, level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        // The call stays outside the precondition: a precondition's argument is not evaluated
        // in every build configuration, and this one has the side effect of initialising zlib.
        let initStatus = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                       ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(initStatus == Z_OK, "deflateInit2_ failed with zlib status \(initStatus)")
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.avail_in = uInt(input.count)
        let produced: Int = output.withUnsafeMutableBytes { out in
            stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = uInt(out.count)
            let status = CZlib.deflate(&stream, Z_FINISH)
            precondition(status == Z_STREAM_END, "deflate with a bound-sized buffer must finish")
            return out.count - Int(stream.avail_out)
        }
        output.removeSubrange(produced...)
        return output
    }

    public static func deflate(_ input: [UInt8], level: Int32 = 6) -> [UInt8] {
        input.withUnsafeBytes { deflate($0, level: level) }
    }
}

extension Gzip {
    /// Streams `source` into a gzip file at `target` (created, written, fsynced, not renamed).
    ///
    /// The output is flushed to disk every `syncEveryBytes` (`fdatasync`), not only at the end:
    /// one fsync of tens of MB holds the device for tens of ms, and the ingest lanes' small
    /// fsyncs queue behind it (p99 spikes of 80–140 ms in the ingest benchmark while a
    /// rotated 256 MB file was sealed).
    public static func compressFile(source: String, target: String, level: Int32 = 6,
                                    syncEveryBytes: Int = 1 << 20) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw FileIOError(operation: "open", path: source, errno: errno) }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw FileIOError(operation: "create", path: target, errno: errno) }
        defer { close(output) }
        var stream = z_stream()
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                            ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw GzipError(code: .io, message: "zlib could not start deflating")
        }
        defer { deflateEnd(&stream) }
        var inBuffer = [UInt8](repeating: 0, count: 256 * 1024)
        var outBuffer = [UInt8](repeating: 0, count: 256 * 1024)
        var finished = false
        var unsyncedBytes = 0
        while !finished {
            let n = inBuffer.withUnsafeMutableBytes { read(input, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError(operation: "read", path: source, errno: errno)
            }
            let flush = n == 0 ? Z_FINISH : Z_NO_FLUSH
            try inBuffer.withUnsafeMutableBytes { inRaw in
                stream.next_in = inRaw.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.avail_in = uInt(n)
                repeat {
                    let (status, produced): (Int32, Int) = outBuffer.withUnsafeMutableBytes { outRaw in
                        stream.next_out = outRaw.baseAddress!.assumingMemoryBound(to: Bytef.self)
                        stream.avail_out = uInt(outRaw.count)
                        let status = CZlib.deflate(&stream, flush)
                        return (status, outRaw.count - Int(stream.avail_out))
                    }
                    guard status != Z_STREAM_ERROR else { throw GzipError(code: .io, message: "deflate failed") }
                    try outBuffer.withUnsafeBytes { raw throws in
                        try FileIO.writeAll(fd: output, UnsafeRawBufferPointer(rebasing: raw[0..<produced]), path: target)
                    }
                    unsyncedBytes += produced
                    if unsyncedBytes >= syncEveryBytes {
                        guard fdatasync(output) == 0 else { throw FileIOError(operation: "fdatasync", path: target, errno: errno) }
                        unsyncedBytes = 0
                    }
                    if status == Z_STREAM_END { finished = true }
                } while stream.avail_out == 0
            }
        }
        try FileIO.fsyncFile(fd: output, path: target)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
