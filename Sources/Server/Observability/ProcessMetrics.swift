import Core
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The `process_*` metrics of the Prometheus client conventions, read from `/proc/self` when
/// `/metrics` is scraped (nothing is sampled in between): CPU seconds, resident and virtual
/// memory, open and maximum file descriptors, start time. On a system without `/proc` the
/// ones that cannot be read are left out.
enum ProcessMetrics {
    struct Sample: Equatable {
        var cpuSeconds: Double?
        var residentBytes: Int?
        var virtualBytes: Int?
        var openFDs: Int?
        var maxFDs: Int?
        var startTimeSeconds: Double?
    }

    static func sample() -> Sample {
        var sample = Sample()
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageBytes = Int(sysconf(Int32(_SC_PAGESIZE)))
        if let stat = try? FileIO.readFile("/proc/self/stat"), let fields = statFields(String(decoding: stat, as: UTF8.self)),
           ticksPerSecond > 0 {
            // `fields[0]` is field 3 of proc(5) (state): utime 14, stime 15, starttime 22, vsize 23, rss 24.
            if let user = Double(fields[11]), let system = Double(fields[12]) {
                sample.cpuSeconds = (user + system) / ticksPerSecond
            }
            sample.virtualBytes = Int(fields[20])
            sample.residentBytes = Int(fields[21]).map { $0 * pageBytes }
            if let startTicks = Double(fields[19]), let boot = bootTimeSeconds() {
                sample.startTimeSeconds = boot + startTicks / ticksPerSecond
            }
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            sample.openFDs = entries.count
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(Int32.max) {  // RLIM_INFINITY is all ones
            sample.maxFDs = Int(limit.rlim_cur)
        }
        return sample
    }

    /// The fields after `(comm)`: the command name may hold spaces and parentheses, so the split
    /// starts after its last `)`. Nil when the line is not as proc(5) describes.
    static func statFields(_ line: String) -> [Substring]? {
        guard let close = line.lastIndex(of: ")") else { return nil }
        let fields = line[line.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        return fields.count >= 22 ? fields : nil
    }

    /// `btime` of `/proc/stat`: when the system booted, in seconds since the epoch.
    static func bootTimeSeconds() -> Double? {
        guard let bytes = try? FileIO.readFile("/proc/stat") else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// The sample in the text exposition format, each metric with `# HELP` and `# TYPE`.
    static func render(_ sample: Sample) -> String {
        var text = ""
        func metric(_ name: String, _ type: String, _ value: String?) {
            guard let value else { return }
            text += "# HELP \(name) \(MetricsCatalog.help[name] ?? "")\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        metric("process_cpu_seconds_total", "counter", sample.cpuSeconds.map { String(format: "%.2f", $0) })
        metric("process_resident_memory_bytes", "gauge", sample.residentBytes.map(String.init))
        metric("process_virtual_memory_bytes", "gauge", sample.virtualBytes.map(String.init))
        metric("process_open_fds", "gauge", sample.openFDs.map(String.init))
        metric("process_max_fds", "gauge", sample.maxFDs.map(String.init))
        metric("process_start_time_seconds", "gauge", sample.startTimeSeconds.map { String(format: "%.2f", $0) })
        return text
    }
}
