import Core
import Ingest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes generated lines into the raw layout one hour at a time, with large buffered
/// writes: `<out>/raw/<route>/YYYY/MM/DD/HH/gen-000001.ndjson` for the hour's lines and
/// `gen-000002.ndjson` for duplicate copies that land in "another file".
///
/// Lines must arrive in non-decreasing hour order; each hour's files are finished when the
/// next hour starts, so memory stays at a few buffers whatever the workload size.
final class GeneratorFileWriter {
    static let writerID = "gen"
    static let flushThresholdBytes = 1 << 20

    private let layout: RawLayout
    private var hourIndex: Int64?
    /// Per route (`Envelope.Route.allCases` order) and file (0 main, 1 duplicates).
    private var buffers: [[UInt8]]
    private var descriptors: [Int32]
    private var paths: [String]
    private(set) var files = 0
    private(set) var bytes: Int64 = 0

    init(outDirectory: String) {
        layout = RawLayout(dataDirectory: outDirectory)
        let slots = Envelope.Route.allCases.count * 2
        buffers = Array(repeating: [], count: slots)
        descriptors = Array(repeating: -1, count: slots)
        paths = Array(repeating: "", count: slots)
        for slot in 0..<slots { buffers[slot].reserveCapacity(Self.flushThresholdBytes + 64 * 1024) }
    }

    deinit {
        for fd in descriptors where fd >= 0 { close(fd) }
    }

    /// Appends one envelope line (newline included) to the hour of `micros`.
    func append(_ line: UnsafeRawBufferPointer, route: Envelope.Route, micros: Int64, duplicateFile: Bool = false) throws {
        let hour = RawLayout.hourIndex(micros: micros)
        if hour != hourIndex {
            precondition(hourIndex.map { hour > $0 } ?? true, "generated lines must come in time order")
            try finishHour()
            hourIndex = hour
        }
        let slot = Self.slot(route) * 2 + (duplicateFile ? 1 : 0)
        buffers[slot].append(contentsOf: line)
        if buffers[slot].count >= Self.flushThresholdBytes { try flush(slot: slot) }
    }

    /// Writes and closes the current hour's files.
    func finishHour() throws {
        for slot in 0..<buffers.count {
            try flush(slot: slot)
            if descriptors[slot] >= 0 {
                close(descriptors[slot])
                descriptors[slot] = -1
            }
        }
    }

    private func flush(slot: Int) throws {
        guard !buffers[slot].isEmpty, let hourIndex else { return }
        if descriptors[slot] < 0 {
            let route = Envelope.Route.allCases[slot / 2]
            let directory = layout.hourDirectory(route: route, hourIndex: hourIndex)
            try FileIO.makeDirectories(directory)
            let path = directory + "/\(Self.writerID)-00000\(slot % 2 + 1).ndjson"
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw FileIOError(operation: "create", path: path, errno: errno) }
            descriptors[slot] = fd
            paths[slot] = path
            files += 1
        }
        try buffers[slot].withUnsafeBytes { try FileIO.writeAll(fd: descriptors[slot], $0, path: paths[slot]) }
        bytes += Int64(buffers[slot].count)
        buffers[slot].removeAll(keepingCapacity: true)
    }

    private static func slot(_ route: Envelope.Route) -> Int {
        switch route {
        case .track: return 0
        case .deactivate: return 1
        case .trackingSkipped: return 2
        }
    }
}
