import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A deliberately small blocking HTTP/1.x client over POSIX sockets, for live-port and crash
/// tests: it lets a test send exactly the bytes an old PHP client sends (HTTP/1.0, no
/// keep-alive, close right after the body) and see what happens when the server dies.
final class RawHTTPConnection {
    let fd: Int32

    init?(port: Int, timeoutSeconds: Int = 10) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 { close(fd); return nil }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var bodyText: String { String(decoding: body, as: UTF8.self) }
    }

    /// Bytes read past the previous response (a pipelined answer that arrived with it).
    private var leftover: [UInt8] = []

    /// Reads one response (Content-Length framed, or until close).
    func readResponse() -> Response? {
        var buffer = leftover
        leftover = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int? = nil
        var contentLength: Int? = nil
        var status = 0
        var headers: [String: String] = [:]
        while true {
            if headerEnd == nil, let range = findHeaderEnd(buffer) {
                headerEnd = range
                parseHead(buffer[0..<range], status: &status, headers: &headers)
                contentLength = headers["content-length"].flatMap { Int($0) }
            }
            if let end = headerEnd {
                if let length = contentLength, buffer.count - end >= length {
                    leftover = Array(buffer[(end + length)...])
                    return Response(status: status, headers: headers, body: Array(buffer[end..<(end + length)]))
                }
            }
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n <= 0 {
                guard let end = headerEnd else { return nil }
                return Response(status: status, headers: headers, body: Array(buffer[end...]))
            }
            buffer.append(contentsOf: chunk[0..<n])
        }
    }

    private func parseHead(_ bytes: ArraySlice<UInt8>, status: inout Int, headers: inout [String: String]) {
        let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
        let first = lines[0].split(separator: " ")
        status = first.count > 1 ? Int(first[1]) ?? 0 : 0
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }

    private func findHeaderEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4) where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index + 4
        }
        return nil
    }

    static func request(method: String = "POST", path: String, version: String = "HTTP/1.1", headers: [(String, String)] = [],
                        body: [UInt8]) -> [UInt8] {
        var head = "\(method) \(path) \(version)\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }
}

/// A port nobody listens on right now (bind 0, read it, close).
func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
