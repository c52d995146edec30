import Core
import Foundation
import Logging
import Server
import Synchronization

enum LogSetup {
    /// Only the executable bootstraps logging; libraries take the Logger we hand them.
    static func bootstrap(level: Logger.Level, format: LogFormat = .text) -> Logger {
        LoggingSystem.bootstrap { label -> any LogHandler in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
        var logger = Logger(label: "trackhouse")
        logger.logLevel = level
        return logger
    }
}

/// `--log-format json`: one JSON object per line on stderr,
/// `{"time":"2026-12-06T13:00:00.123456Z","level":"info","label":"trackhouse","message":"…","metadata":{…}}`
/// (`metadata` only when there is some; nested metadata as JSON arrays and objects). Each line is
/// written with one `write(2)` under a lock, so lines from different threads never interleave.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    /// Where lines go (stderr; tests pass their own).
    let sink: @Sendable ([UInt8]) -> Void

    init(label: String, sink: @escaping @Sendable ([UInt8]) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.sink = sink
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        sink(Self.line(time: UTCTime.nowMicros(), level: event.level, label: label, message: "\(event.message)", metadata: merged))
    }

    static func line(time: Int64, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> [UInt8] {
        var object = JSONObject()
        object["time"] = .string(UTCTime.formatISO(micros: time))
        object["level"] = .string(level.rawValue)
        object["label"] = .string(label)
        object["message"] = .string(message)
        if !metadata.isEmpty {
            object["metadata"] = .object(JSONObject(metadata.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) }))
        }
        var bytes = JSONWriter.serialize(.object(object))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    static func json(_ value: Logger.Metadata.Value) -> JSONValue {
        switch value {
        case .string(let text): return .string(text)
        case .stringConvertible(let convertible): return .string(convertible.description)
        case .array(let items): return .array(items.map(json))
        case .dictionary(let entries): return .object(JSONObject(entries.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) }))
        }
    }

    private static let writeLock = Mutex(())

    @Sendable static func standardError(_ bytes: [UInt8]) {
        writeLock.withLock { _ in
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                    if written <= 0 { if errno == EINTR { continue }; return }
                    offset += written
                }
            }
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

import ArgumentParser
