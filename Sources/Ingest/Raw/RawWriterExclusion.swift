import Core
import Foundation

/// Holds every raw writer's lock (`<raw>/.writer-<id>.lock`, which `RawLogWriter.start` takes
/// for the writer's lifetime) so that a process other than the server can rewrite raw files
/// (`trackhouse privacy erase`): it fails when any writer is running, and while it is held
/// a server starting with one of those writer ids refuses to start. Released by `release()`
/// or when the process ends.
public final class RawWriterExclusion {
    private var descriptors: [Int32] = []

    /// Throws `RawWriterStartError` naming the writers that run. `excludingWriterID`: the
    /// caller's own writer (a server erasing through its admin API coordinates with it instead).
    public init(layout: RawLayout, excludingWriterID: String? = nil) throws {
        try FileIO.makeDirectories(layout.rawRoot)
        var busy: [String] = []
        for name in FileIO.list(layout.rawRoot) where name.hasPrefix(".writer-") && name.hasSuffix(".lock")
            && name != excludingWriterID.map({ ".writer-\($0).lock" }) {
            let path = layout.rawRoot + "/" + name
            let fd = open(path, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { continue }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                descriptors.append(fd)
            } else {
                close(fd)
                busy.append(String(name.dropFirst(8).dropLast(5)))
            }
        }
        if !busy.isEmpty {
            release()
            throw RawWriterStartError(message: "a trackhouse server is writing raw files in \(layout.rawRoot) (writer \(busy.sorted().joined(separator: ", "))): erase through its admin API (POST /api/v1/projects/<id>/privacy/erase), which coordinates with the writer, or stop the server first")
        }
    }

    public func release() {
        for fd in descriptors { close(fd) }
        descriptors = []
    }

    deinit { release() }
}
