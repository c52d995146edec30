// Thrift compact decoding (Parquet footers and page headers): any bytes decode to a value
// or a `ParquetError`, never a crash or a runaway allocation; skipping any type is bounded.
@testable import ColumnStore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    func attempt(_ body: (inout ThriftCompactReader) throws -> Void) {
        var reader = ThriftCompactReader(bytes: bytes)
        do {
            try body(&reader)
            if reader.bytesLeft < 0 || reader.position > bytes.count { fuzzFail("reader ran past the end", input: bytes) }
        } catch is ParquetError {
        } catch {
            fuzzFail("unexpected error type \(error)", input: bytes)
        }
    }
    attempt { _ = try ParquetFormat.FileMetaData.decode(&$0) }
    attempt { _ = try ParquetFormat.PageHeader.decode(&$0) }
    attempt { try $0.skip(.structure) }
    // The first byte picks a value type to read or skip from the rest.
    if let first = bytes.first, let type = ThriftType(rawValue: first & 0x0F) {
        let rest = Array(bytes.dropFirst())
        var reader = ThriftCompactReader(bytes: rest)
        do {
            switch first >> 4 {
            case 0: try reader.skip(type)
            case 1: _ = try reader.readI32(type)
            case 2: _ = try reader.readI64(type)
            case 3: _ = try reader.readBinary(type)
            case 4: _ = try reader.readString(type)
            case 5: _ = try reader.readListI32(type)
            case 6: _ = try reader.readListString(type)
            case 7: _ = try reader.readListStruct(type) { try ParquetFormat.RowGroup.decode(&$0) }
            case 8: _ = try reader.readBool(type)
            default: _ = try reader.readListStruct(type) { try ParquetFormat.SchemaElement.decode(&$0) }
            }
        } catch is ParquetError {
        } catch {
            fuzzFail("unexpected error type \(error)", input: bytes)
        }
    }
    return 0
}
