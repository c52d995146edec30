/// The DATA section of a message (RFC 5321 §4.5.2): every line ends in CRLF (a bare LF or CR
/// becomes CRLF), a line that starts with "." gets one more ".", and "CRLF . CRLF" ends it.
enum SMTPData {
    static func stuffed(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 64 + 8)
        var atLineStart = true
        var index = 0
        while index < message.count {
            let byte = message[index]
            if byte == 0x0D || byte == 0x0A {
                out.append(0x0D)
                out.append(0x0A)
                // CRLF is one line ending, so are a lone CR and a lone LF.
                if byte == 0x0D, index + 1 < message.count, message[index + 1] == 0x0A { index += 1 }
                atLineStart = true
            } else {
                if atLineStart, byte == 0x2E { out.append(0x2E) }
                out.append(byte)
                atLineStart = false
            }
            index += 1
        }
        if !atLineStart || out.isEmpty { out.append(contentsOf: [0x0D, 0x0A]) }
        out.append(contentsOf: [0x2E, 0x0D, 0x0A])
        return out
    }
}
