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
    @Option(help: "Output format: json, jsonl, csv or table.") var format: ResultFormat = QueryInvocation.defaults.format
    @Option(name: .short, help: "The SQL to run (same as the positional argument).") var c: String?
    @Argument(help: "The SQL to run.") var sql: String?
    @Option(help: "Threads to use (default: all cores).") var threads: Int?
    @Option(name: .customLong("timeout-ms"), help: "Give up after this many milliseconds.") var timeoutMs: Int = QueryInvocation.defaults.timeoutMs
    @Option(name: .customLong("max-rows"), help: "Refuse results with more rows than this.") var maxRows: Int = QueryInvocation.defaults.maxRows
    @Option(name: .customLong("memory-mb"), help: "Memory budget for hash tables, in MiB.") var memoryMB: Int = QueryInvocation.defaults.memoryMB
    @Option(name: .customLong("repeat"), help: "Run the query this many times in this process and print each run's milliseconds on stderr (benchmarks).")
    var repeatCount: Int = QueryInvocation.defaults.repeatCount

    func validate() throws {
        if c != nil && sql != nil { throw ValidationError("give the SQL once: either -c or the argument") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    var invocation: QueryInvocation {
        QueryInvocation(dataFlag: dataOptions.dataFlag, format: format, sql: c ?? sql, threads: threads, timeoutMs: timeoutMs,
                        maxRows: maxRows, memoryMB: memoryMB, repeatCount: repeatCount)
    }

    func run() throws { try invocation.run() }
}

/// What a parsed `trackhouse query` runs, whichever parser made it: ArgumentParser's
/// (`QueryCommand`, the reference) or `QueryInvocation.parse` (the fast path `Trackhouse.main`
/// takes first). `Tests/ServerTests/QueryCommandLineTests.swift` runs both on the same
/// arguments and requires the same output, errors and exit code.
struct QueryInvocation: Equatable {
    var dataFlag: String?
    var format: ResultFormat = .table
    var sql: String?
    var threads: Int?
    var timeoutMs = 300_000
    var maxRows = 1_000_000
    var memoryMB = 4096
    var repeatCount = 1

    static let defaults = QueryInvocation()

    /// The integer flags `parse` takes beside `--threads` (which must also be ≥ 1).
    private static let integerFlags: [String: WritableKeyPath<QueryInvocation, Int> & Sendable] = [
        "--timeout-ms": \.timeoutMs, "--max-rows": \.maxRows, "--memory-mb": \.memoryMB, "--repeat": \.repeatCount,
    ]

    /// The arguments after `query`, when they are only what this parser knows — `--data`,
    /// `--format`, `-c`, `--threads`, `--timeout-ms`, `--max-rows`, `--memory-mb`, `--repeat`
    /// (each at most once, as `--name value` or `--name=value`; `-c value`) and one positional
    /// SQL — and pass `QueryCommand.validate`; nil for anything else (help, an unknown or
    /// repeated flag, a value that looks like a flag or does not parse), which then goes to
    /// ArgumentParser's full parse so its messages and exit codes stay the only ones.
    static func parse(_ arguments: [String]) -> QueryInvocation? {
        var invocation = QueryInvocation()
        var seen = Set<String>()
        var positional: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "help" { return nil }
            guard argument.hasPrefix("-") else {
                guard positional == nil else { return nil }
                positional = argument
                continue
            }
            var name = argument
            var value: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                value = String(argument[argument.index(after: equals)...])
            } else {
                guard index < arguments.count, !arguments[index].hasPrefix("-") else { return nil }
                value = arguments[index]
                index += 1
            }
            guard let value, seen.insert(name).inserted else { return nil }
            switch name {
            case "--data": invocation.dataFlag = value
            case "--format":
                guard let format = ResultFormat(rawValue: value) else { return nil }
                invocation.format = format
            case "-c": invocation.sql = value
            case "--threads":
                guard let threads = Int(value), threads >= 1 else { return nil }
                invocation.threads = threads
            default:
                guard let field = Self.integerFlags[name], let number = Int(value) else { return nil }
                invocation[keyPath: field] = number
            }
        }
        if let positional {
            guard invocation.sql == nil else { return nil }
            invocation.sql = positional
        }
        return invocation
    }

    func run() throws {
        var text = sql
        if text == nil {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            text = String(decoding: data, as: UTF8.self)
        }
        // (`Character.isWhitespace`, not Foundation's `trimmingCharacters`: a measurable part of
        // a small query's process start.)
        guard let text, text.contains(where: { !$0.isWhitespace }) else {
            throw ValidationError("no SQL given: pass it as an argument, with -c, or on standard input")
        }
        var options = QueryOptions(timeoutMs: timeoutMs, memoryBytesMax: memoryMB << 20, resultRowsMax: maxRows)
        if let threads { options.threadsMax = threads }
        var logger = Logger(label: "trackhouse.query")
        logger.logLevel = .error
        let engine = QueryEngine(catalog: WarehouseCatalog(dataDirectory: DataOptions.resolve(dataFlag)), options: options, logger: logger)
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
