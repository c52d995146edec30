import ArgumentParser
import Foundation
import Logging
import Query

extension ResultFormat: ExpressibleByArgument {}

struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Run one SQL SELECT over the committed warehouse (tables events and sites).",
        discussion: "SQL comes from the argument, from -c, or from standard input.")

    @OptionGroup var dataOptions: DataOptions
    @Option(help: "Output format: json, jsonl, csv or table.") var format: ResultFormat = .table
    @Option(name: .short, help: "The SQL to run (same as the positional argument).") var c: String?
    @Argument(help: "The SQL to run.") var sql: String?
    @Option(help: "Threads to use (default: all cores).") var threads: Int?
    @Option(name: .customLong("timeout-ms"), help: "Give up after this many milliseconds.") var timeoutMs: Int = 300_000
    @Option(name: .customLong("max-rows"), help: "Refuse results with more rows than this.") var maxRows: Int = 1_000_000
    @Option(name: .customLong("memory-mb"), help: "Memory budget for hash tables, in MiB.") var memoryMB: Int = 4096
    @Option(name: .customLong("repeat"), help: "Run the query this many times in this process and print each run's milliseconds on stderr (benchmarks).")
    var repeatCount: Int = 1

    func validate() throws {
        if c != nil && sql != nil { throw ValidationError("give the SQL once: either -c or the argument") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        var text = c ?? sql
        if text == nil {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            text = String(decoding: data, as: UTF8.self)
        }
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("no SQL given: pass it as an argument, with -c, or on standard input")
        }
        var options = QueryOptions(timeoutMs: timeoutMs, memoryBytesMax: memoryMB << 20, resultRowsMax: maxRows)
        if let threads { options.threadsMax = threads }
        var logger = Logger(label: "trackhouse.query")
        logger.logLevel = .error
        let engine = QueryEngine(catalog: WarehouseCatalog(dataDirectory: dataOptions.data), options: options, logger: logger)
        do {
            var result = try engine.execute(sql: text)
            if self.repeatCount > 1 {
                var timings: [String] = []
                for _ in 0..<self.repeatCount {
                    let started = DispatchTime.now().uptimeNanoseconds
                    result = try engine.execute(sql: text)
                    timings.append(String(format: "%.3f", Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6))
                }
                printError("elapsed_ms " + timings.joined(separator: " "))
            }
            let text = result.render(format)
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        } catch let error as QueryError {
            throw CommandFailure("\(error)")
        }
    }
}
