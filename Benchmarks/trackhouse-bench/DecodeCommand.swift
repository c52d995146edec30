import ArgumentParser
import Core
import Foundation
import Ingest

/// `trackhouse-bench decode --body FILE`: CPU per request of the ingest route's decode step
/// (form body → envelope line), without HTTP or disk, for `Benchmarks/ingest/run.sh`.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Time the ingest decode step (form body to envelope line) on one body.")

    @Option(help: "A form body, as the SDK posts it.") var body: String
    @Option(help: "Repetitions.") var iterations = 200_000

    func run() throws {
        guard let data = FileManager.default.contents(atPath: body) else {
            throw ValidationError("cannot read \(body)")
        }
        let bytes = [UInt8](data)
        let userAgent = "Appsero/0123456789abcdef0123456789abcdef;"
        // The route's steps in its order: id and time, envelope head, transcode into the line.
        func decodeOnce() -> Int {
            let now = UTCTime.nowMicros()
            let prefix = Envelope.linePrefix(id: EventID.make(micros: now), receivedAtMicros: now, route: .track,
                                             ip: "127.0.0.1", userAgent: userAgent)
            let line = bytes.withUnsafeBufferPointer {
                FormTranscoder.transcode($0, prefix: prefix, suffix: Envelope.lineSuffix)
            }
            return line?.json.count ?? 0
        }
        let lineBytes = decodeOnce()
        guard lineBytes > 0 else { throw ValidationError("the body does not take the form fast path") }
        var checksum = 0
        let started = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<iterations { checksum &+= decodeOnce() }
        let elapsedNs = Double(DispatchTime.now().uptimeNanoseconds - started)
        print(String(format: "decode body_bytes=%d line_bytes=%d us_per_request=%.2f", bytes.count, lineBytes,
                     elapsedNs / 1000 / Double(iterations)))
        if checksum == 42 { print("") }  // keeps the loop from being optimized away
    }
}
