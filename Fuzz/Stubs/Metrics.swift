// A stand-in for swift-metrics' `Metrics` for the fuzz builds (scripts/fuzz.sh): the few
// instruments Ingest creates, recording nothing.
public final class Counter: Sendable {
    public init(label: String, dimensions: [(String, String)] = []) {}
    public func increment<Value: BinaryInteger>(by amount: Value) {}
    public func increment() {}
}

public final class Gauge: Sendable {
    public init(label: String, dimensions: [(String, String)] = []) {}
    public func record<Value: BinaryInteger>(_ value: Value) {}
    public func record<Value: BinaryFloatingPoint>(_ value: Value) {}
}

public final class Recorder: Sendable {
    public init(label: String, dimensions: [(String, String)] = [], aggregate: Bool = true) {}
    public func record<Value: BinaryInteger>(_ value: Value) {}
    public func record<Value: BinaryFloatingPoint>(_ value: Value) {}
}

public final class Timer: Sendable {
    public init(label: String, dimensions: [(String, String)] = []) {}
    public func recordNanoseconds(_ duration: Int64) {}
    public func recordNanoseconds<Value: BinaryInteger>(_ duration: Value) {}
}
