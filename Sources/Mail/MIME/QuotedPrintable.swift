/// Quoted-printable (RFC 2045 §6.7) for UTF-8 text parts:
/// 1. The text is cut into lines at LF (a CR before it is dropped); each line is encoded alone
///    and the lines are joined with CRLF (hard line breaks stay line breaks).
/// 2. Printable ASCII other than "=" stays; "=", every other byte (UTF-8 included) and a space
///    or tab at the end of a line become "=XX" (uppercase hex).
/// 3. Encoded lines longer than 76 characters are cut with a soft break ("=" CRLF), never
///    inside an "=XX" triplet.
/// 4. A "." at the start of an encoded line is written "=2E", so the text survives a relay
///    that mishandles SMTP dot-stuffing.
/// The output is 7-bit ASCII and never contains "=_", which keeps MIME boundaries that start
/// with "=_" out of every part.
enum QuotedPrintable {
    static let lineLengthMax = 76

    static func encode(_ text: String) -> String {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var lineStart = 0
        var first = true
        while lineStart <= bytes.count {
            var lineEnd = bytes[lineStart...].firstIndex(of: 0x0A) ?? bytes.count
            let nextStart = lineEnd + 1
            if lineEnd > lineStart, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            if !first { out += [0x0D, 0x0A] }
            first = false
            encodeLine(bytes[lineStart..<lineEnd], into: &out)
            if nextStart > bytes.count { break }
            lineStart = nextStart
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func encodeLine(_ line: ArraySlice<UInt8>, into out: inout [UInt8]) {
        var lineLength = 0
        for index in line.indices {
            let byte = line[index]
            let isLast = index == line.index(before: line.endIndex)
            let isWhitespace = byte == 0x20 || byte == 0x09
            let literal = (byte >= 0x21 && byte <= 0x7E && byte != 0x3D) || (isWhitespace && !isLast)
            let needsEscape = !literal || (lineLength == 0 && byte == 0x2E)
            let width = needsEscape ? 3 : 1
            // Leave room for the soft break's "=" unless this is the line's last piece.
            if lineLength + width > (isLast ? lineLengthMax : lineLengthMax - 1) {
                out += [0x3D, 0x0D, 0x0A]
                lineLength = 0
            }
            if needsEscape || (lineLength == 0 && byte == 0x2E) {
                out.append(0x3D)
                out.append(hex(byte >> 4))
                out.append(hex(byte & 0x0F))
                lineLength += 3
            } else {
                out.append(byte)
                lineLength += 1
            }
        }
    }

    private static func hex(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 0x30 + nibble : 0x41 + nibble - 10
    }
}
