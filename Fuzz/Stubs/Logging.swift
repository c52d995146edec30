// A stand-in for swift-log's `Logging` for the fuzz builds (scripts/fuzz.sh): just the API
// that Ingest, ColumnStore and Query use, discarding every message. It lets the fuzz build
// compile those modules with swiftc directly instead of building the package graph.
public struct Logger: Sendable {
    public enum Level: String, Sendable, CaseIterable { case trace, debug, info, notice, warning, error, critical }

    public enum MetadataValue: Sendable, ExpressibleByStringLiteral, ExpressibleByStringInterpolation {
        case string(String)
        public init(stringLiteral value: String) { self = .string(value) }
    }

    public typealias Metadata = [String: MetadataValue]

    public struct Message: Sendable, ExpressibleByStringLiteral, ExpressibleByStringInterpolation {
        public var text: String
        public init(stringLiteral value: String) { text = value }
    }

    public let label: String
    public var logLevel: Level = .critical

    public init(label: String) { self.label = label }

    @inlinable public func log(level: Level, _ message: @autoclosure () -> Message, metadata: @autoclosure () -> Metadata? = nil) {}
    @inlinable public func trace(_ message: @autoclosure () -> Message, metadata: @autoclosure () -> Metadata? = nil) {}
    @inlinable public func debug(_ message: @autoclosure () -> Message, metadata: @autoclosure () -> Metadata? = nil) {}
    @inlinable public func info(_ message: @autoclosure () -> Message, metadata: @autoclosure () -> Metadata? = nil) {}
    @inlinable public func notice(_ message: @autoclosure () -> Message, metadata: @autoclosure () -> Metadata? = nil) {}
    @inlinable public func warning(_ message: @autoclosure () -> Message, metadata: @autoclosure () -> Metadata? = nil) {}
    @inlinable public func error(_ message: @autoclosure () -> Message, metadata: @autoclosure () -> Metadata? = nil) {}
    @inlinable public func critical(_ message: @autoclosure () -> Message, metadata: @autoclosure () -> Metadata? = nil) {}
}
