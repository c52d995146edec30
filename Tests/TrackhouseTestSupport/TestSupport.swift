import Core
import Foundation
import Ingest
import Logging
import Synchronization

// Helpers shared by the test targets (not API of the product).

/// The folder holding this test process's temporary folders, removed when the process exits
/// (a full run writes gigabytes: servers' warehouses, release tarballs), unless
/// `TRACKHOUSE_KEEP_TEST_DIRS=1` keeps them for a look after a failure.
private let temporaryRoot: String = {
    let path = NSTemporaryDirectory() + "trackhouse-tests-\(getpid())-\(UUID().uuidString.prefix(8))"
    try! FileIO.makeDirectories(path)
    if ProcessInfo.processInfo.environment["TRACKHOUSE_KEEP_TEST_DIRS"] != "1" {
        atexit { removeTemporaryRoot() }
    }
    return path
}()

private func removeTemporaryRoot() {
    try? FileManager.default.removeItem(atPath: temporaryRoot)
}

/// A fresh temporary folder named after the calling test (under `temporaryRoot`).
public func makeTemporaryDirectory(_ name: String = #function) -> String {
    let cleaned = name.filter { $0.isLetter || $0.isNumber }
    let path = temporaryRoot + "/\(cleaned)-\(UUID().uuidString.prefix(8))"
    try! FileIO.makeDirectories(path)
    return path
}

/// A logger that stays silent unless something is critical.
public let quietLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}()

/// Every envelope in a data folder's raw tree, decoded.
public func readAllEnvelopes(_ dataDirectory: String) throws -> [Envelope] {
    var result: [Envelope] = []
    for file in RawLayout(dataDirectory: dataDirectory).listFiles() {
        try RawFileReader.forEachLine(path: file.path) { line in
            result.append(try Envelope.decode(line.bytes))
        }
    }
    return result
}

/// The built `trackhouse` binary: `TRACKHOUSE_BIN`, else next to the test bundle, else the
/// usual build folders; nil when none is built.
public func trackhouseBinary() -> String? {
    if let path = ProcessInfo.processInfo.environment["TRACKHOUSE_BIN"], FileManager.default.isExecutableFile(atPath: path) {
        return path
    }
    let sibling = Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("trackhouse").path
    if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
    for candidate in [".build/debug/trackhouse", ".build/release/trackhouse"] where FileManager.default.isExecutableFile(atPath: candidate) {
        return candidate
    }
    return nil
}

/// A log handler that keeps every message it is given, for tests that count log lines.
public struct RecordingLogHandler: LogHandler {
    public final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        public init() {}
        public var all: [String] { lines.withLock { $0 } }
        func append(_ line: String) { lines.withLock { $0.append(line) } }
    }

    public let lines: Lines
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init(lines: Lines) { self.lines = lines }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        lines.append("\(event.level) \(event.message)")
    }

    /// A logger writing into `lines`.
    public static func logger(_ lines: Lines) -> Logger {
        Logger(label: "test.recording") { _ in RecordingLogHandler(lines: lines) }
    }
}
