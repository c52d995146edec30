// Parquet files: any bytes given as a file must give a `ParquetError` (or a result), never
// a crash, hang or huge allocation: the footer, every column of every row group, row
// ranges and the page listing are read.
// `TRACKHOUSE_FUZZ_WRITE_SEEDS=DIR` writes small valid files (the seed corpus) and exits.
@testable import ColumnStore
#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    do {
        let file = try ParquetFileReader(bytes: bytes, name: "fuzz.parquet")
        for group in file.rowGroups.indices {
            _ = try? file.pages(rowGroup: group, column: 0)
            for column in file.schema.columns.indices {
                _ = try? file.pages(rowGroup: group, column: column)
                if let data = try? file.readColumn(rowGroup: group, column: column) {
                    if data.count != file.rowGroups[group].rowCount {
                        fuzzFail("column \(column) of row group \(group) has \(data.count) values, the group \(file.rowGroups[group].rowCount) rows", input: bytes)
                    }
                    _ = data.materialized()
                }
                let rows = file.rowGroups[group].rowCount
                if rows > 1, let part = try? file.readColumn(rowGroup: group, column: column, rows: 1..<rows), part.count != rows - 1 {
                    fuzzFail("row range read gave \(part.count) values for \(rows - 1) rows", input: bytes)
                }
            }
        }
    } catch is ParquetError {
    } catch {
        fuzzFail("unexpected error type \(error)", input: bytes)
    }
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>) -> CInt {
    guard let directory = getenv("TRACKHOUSE_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) else { return 0 }
    do {
        for (name, bytes) in try ParquetSeeds.files() {
            try writeSeed(path: directory + "/" + name, bytes)
        }
    } catch {
        fputs("writing seeds failed: \(error)\n", stderr)
        exit(1)
    }
    exit(0)
}

enum ParquetSeeds {
    /// Three small files: every kind with nulls and a dictionary, one REQUIRED column in two
    /// row groups with several pages, and dictionary fallback to PLAIN strings.
    static func files() throws -> [(String, [UInt8])] {
        var files: [(String, [UInt8])] = []
        let all = ParquetSchema([
            ParquetColumn(name: "s", kind: .string), ParquetColumn(name: "i", kind: .int64),
            ParquetColumn(name: "t", kind: .timestamp), ParquetColumn(name: "b", kind: .bool),
            ParquetColumn(name: "d", kind: .double),
        ])
        files.append(("kinds.parquet", try ParquetWriter.encode(schema: all, rowGroups: [[
            .strings(["a", nil, "bb", "a", "ccc"]), .int64([1, nil, -5, 1 << 40, 0]),
            .timestamps([1_780_000_000_000_000, nil, 0, -1, 5]), .bools([true, false, nil, true, true]),
            .doubles([1.5, nil, -0.0, 2e300, 3]),
        ]])))
        var options = ParquetWriter.Options()
        options.pageRowsMax = 3
        options.rowGroupRowsMax = 5
        let required = ParquetSchema([ParquetColumn(name: "n", kind: .int64, isOptional: false)])
        files.append(("pages.parquet", try ParquetWriter.encode(schema: required, rowGroups: [[.int64((0..<8).map { Int64($0) })]], options: options)))
        var fallback = ParquetWriter.Options()
        fallback.dictionaryEntriesMax = 2
        let strings = ParquetSchema([ParquetColumn(name: "s", kind: .string)])
        files.append(("fallback.parquet", try ParquetWriter.encode(schema: strings, rowGroups: [[.strings(["x", "y", "z", "x", nil, "w"])]], options: fallback)))
        return files
    }
}

func writeSeed(path: String, _ bytes: [UInt8]) throws {
    guard let file = fopen(path, "wb") else { throw ParquetError(.io, "cannot create \(path)") }
    defer { fclose(file) }
    if fwrite(bytes, 1, bytes.count, file) != bytes.count { throw ParquetError(.io, "cannot write \(path)") }
}
