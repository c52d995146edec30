import Foundation

/// `[done/total] text` progress on stderr: redrawn in place on a terminal (at most ~5 times a
/// second, after the first second), plain lines every few seconds when piped, nothing with
/// `--quiet`.
final class ProgressLine {
    private let enabled: Bool
    private let isTerminal: Bool
    private let started = Date()
    private var lastDraw = Date.distantPast
    private var drew = false
    private var standardError = StandardErrorStream()

    init(quiet: Bool) {
        enabled = !quiet
        isTerminal = isatty(STDERR_FILENO) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    func update(done: Int, total: Int, text: String) {
        guard enabled else { return }
        let now = Date()
        let interval = isTerminal ? 0.2 : 5.0
        guard done == total || now.timeIntervalSince(lastDraw) >= interval,
              now.timeIntervalSince(started) >= (isTerminal ? 1.0 : 0) || done == total else { return }
        lastDraw = now
        if isTerminal {
            var line = "[\(done)/\(total)] \(text)"
            if line.count > 100 { line = String(line.prefix(99)) + "…" }
            standardError.write("\r\u{1B}[2K" + line)
            drew = true
        } else {
            standardError.write("[\(done)/\(total)] \(text)\n")
        }
    }

    func finish() {
        if drew { standardError.write("\r\u{1B}[2K") }
    }
}
