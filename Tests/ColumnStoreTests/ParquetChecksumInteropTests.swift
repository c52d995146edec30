import Foundation
import XCTest
@testable import ColumnStore

/// Our page CRCs as other engines see them: pyarrow verifies them
/// (`page_checksum_verification=True`) and refuses a flipped page; DuckDB and pyarrow without
/// verification refuse it too, through zstd's frame checksum; Spark (parquet-mr) verifies them
/// with `parquet.page.verify-checksum.enabled`. The other way round, we verify the CRCs pyarrow
/// writes (`write_page_checksum=True`). Skipped unless TRACKHOUSE_PYTHON names a Python with
/// pyarrow and duckdb; the Spark part also needs pyspark and a Java runtime.
final class ParquetChecksumInteropTests: XCTestCase {
    private var python: String!

    override func setUpWithError() throws {
        guard let python = ProcessInfo.processInfo.environment["TRACKHOUSE_PYTHON"], !python.isEmpty else {
            throw XCTSkip("set TRACKHOUSE_PYTHON to a python with duckdb and pyarrow to run interop tests")
        }
        self.python = python
    }

    /// A good file, one with a flipped data page byte, one with a flipped dictionary page byte.
    private func writeDamagedFiles(in directory: URL) throws -> (good: String, data: String, dictionary: String) {
        var options = ParquetWriter.Options()
        options.rowGroupRowsMax = 1_000
        options.pageRowsMax = 300
        let table = GeneratedTable.make(rows: 2_500, nullFraction: 0.3, distinctStrings: 50, seed: 3)
        let good = directory.appendingPathComponent("good.parquet").path
        try ParquetWriter.writeFileAtomically(path: good, schema: table.schema, rowGroups: [table.columns], options: options)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: good)))
        let pages = try pageLocations(bytes)
        func flipped(_ name: String, column: String, type: ParquetPageType) throws -> String {
            let index = try XCTUnwrap(table.schema.index(of: column))
            let page = try XCTUnwrap(pages.first { $0.group == 1 && $0.column == index && $0.header.type == type.rawValue })
            var damaged = bytes
            damaged[(page.body.lowerBound + page.body.upperBound) / 2] ^= 0x04
            let path = directory.appendingPathComponent(name).path
            try Data(damaged).write(to: URL(fileURLWithPath: path))
            return path
        }
        return (good, try flipped("data.parquet", column: "i", type: .dataPage),
                try flipped("dictionary.parquet", column: "s", type: .dictionaryPage))
    }

    func testPyArrowVerifiesOurChecksumsAndDuckDBRefusesDamagedPages() throws {
        let files = try writeDamagedFiles(in: try makeTemporaryDirectory())
        let script = """
        import json, sys
        import duckdb, pyarrow.parquet as pq
        def attempt(read):
            try:
                return "ok:%d" % read()
            except Exception as error:
                return "error:" + str(error).replace("\\n", " ")[:300]
        results = {}
        for path in sys.argv[1:]:
            results[path] = {
                "pyarrow-verify": attempt(lambda: pq.read_table(path, page_checksum_verification=True).num_rows),
                "pyarrow": attempt(lambda: pq.read_table(path).num_rows),
                "duckdb": attempt(lambda: len(duckdb.sql("SELECT * FROM read_parquet('%s')" % path).fetchall())),
            }
        print(json.dumps(results))
        """
        let results = try runJSON(script, [files.good, files.data, files.dictionary])
        XCTAssertEqual(results[files.good], ["pyarrow-verify": "ok:2500", "pyarrow": "ok:2500", "duckdb": "ok:2500"])
        for damaged in [files.data, files.dictionary] {
            let result = try XCTUnwrap(results[damaged])
            XCTAssertTrue(result["pyarrow-verify"]?.hasPrefix("error:") == true && result["pyarrow-verify"]!.contains("CRC"),
                          "\(damaged): \(result)")
            XCTAssertTrue(result["pyarrow"]?.hasPrefix("error:") == true, "\(damaged): \(result)")
            XCTAssertTrue(result["duckdb"]?.hasPrefix("error:") == true, "\(damaged): \(result)")
        }
    }

    func testSparkVerifiesOurChecksums() throws {
        guard (try? runJSON("import json, pyspark, shutil; print(json.dumps({'java': {'ok': str(shutil.which('java') is not None)}}))", []))?["java"]?["ok"] == "True" else {
            throw XCTSkip("pyspark or java is missing: Spark's checksum verification was not checked")
        }
        let files = try writeDamagedFiles(in: try makeTemporaryDirectory())
        let script = """
        import json, sys
        from pyspark.sql import SparkSession
        spark = (SparkSession.builder.master("local[1]").appName("trackhouse-crc")
                 .config("spark.ui.enabled", "false")
                 .config("spark.hadoop.parquet.page.verify-checksum.enabled", "true").getOrCreate())
        spark.sparkContext.setLogLevel("OFF")
        results = {}
        for path in sys.argv[1:]:
            results[path] = {}
            for reader, vectorized in [("spark", "true"), ("spark-mr", "false")]:
                spark.conf.set("spark.sql.parquet.enableVectorizedReader", vectorized)
                try:
                    results[path][reader] = "ok:%d" % len(spark.read.parquet(path).collect())
                except Exception as error:
                    results[path][reader] = "error:" + str(error).replace("\\n", " ")[:300]
        spark.stop()
        print(json.dumps(results))
        """
        let results = try runJSON(script, [files.good, files.data, files.dictionary])
        XCTAssertEqual(results[files.good], ["spark": "ok:2500", "spark-mr": "ok:2500"])
        for damaged in [files.data, files.dictionary] {
            let result = try XCTUnwrap(results[damaged])
            XCTAssertTrue(result.values.allSatisfy { $0.hasPrefix("error:") }, "\(damaged): \(result)")
        }
    }

    func testWeVerifyPyArrowsChecksums() throws {
        let directory = try makeTemporaryDirectory()
        let script = """
        import json, sys
        import pyarrow as pa, pyarrow.parquet as pq
        table = pa.table({"n": pa.array(range(10_000), pa.int64()),
                          "s": pa.array(["site-%d" % (i % 37) for i in range(10_000)])})
        out = {}
        for codec in ["zstd", "none"]:
            path = "%s/pyarrow-crc-%s.parquet" % (sys.argv[1], codec)
            pq.write_table(table, path, compression=codec, write_page_checksum=True, data_page_size=8_192)
            out[codec] = {"path": path}
        print(json.dumps(out))
        """
        let written = try runJSON(script, [directory.path])
        for codec in ["zstd", "none"] {
            let path = try XCTUnwrap(written[codec]?["path"])
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            let reader = try ParquetFileReader(path: path)
            let pages = try pageLocations(bytes)
            XCTAssertTrue(pages.allSatisfy { $0.header.crc != nil }, "pyarrow wrote CRCs (\(codec))")
            XCTAssertEqual(try reader.readColumn(rowGroup: 0, name: "n").int64Values, (0..<10_000).map { Int64($0) })
            for type in [ParquetPageType.dataPage, .dictionaryPage] {
                let page = try XCTUnwrap(pages.last { $0.column == 1 && $0.header.type == type.rawValue })
                var damaged = bytes
                damaged[(page.body.lowerBound + page.body.upperBound) / 2] ^= 0x20
                let damagedReader = try ParquetFileReader(bytes: damaged, name: "pyarrow-\(codec)")
                XCTAssertThrowsError(try damagedReader.readColumn(rowGroup: 0, column: 1)) { error in
                    XCTAssertEqual((error as? ParquetError)?.code, .checksumMismatch, "\(codec) \(type): \(error)")
                }
            }
        }
    }

    private struct PythonFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `script` and decodes its last stdout line as {String: {String: String}}. Stderr
    /// goes to a file: Spark logs more than a pipe holds while we wait for stdout.
    private func runJSON(_ script: String, _ arguments: [String]) throws -> [String: [String: String]] {
        let errorPath = FileManager.default.temporaryDirectory.appendingPathComponent("crc-interop-\(UUID().uuidString).err").path
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errorPath) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0,
              let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last,
              let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: [String: String]] else {
            let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            throw PythonFailure(description: "python exited \(process.terminationStatus): \(errors.suffix(2_000))")
        }
        return json
    }
}
