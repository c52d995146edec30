import Foundation
import Logging
@testable import Ingest

/// A fresh temporary folder per test, removed afterwards.
func makeTemporaryDirectory(_ name: String = #function) -> String {
    let cleaned = name.filter { $0.isLetter || $0.isNumber }
    let path = NSTemporaryDirectory() + "trackhouse-\(cleaned)-\(UUID().uuidString.prefix(8))"
    try! FileIO.makeDirectories(path)
    return path
}

let testLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}()

func writeRegistry(_ directory: String, projects: [Project]) {
    try! FileIO.writeFileAtomically(directory + "/projects.json", ProjectRegistry(projects: projects).serialized())
}

/// Every envelope in the raw tree, decoded.
func readAllEnvelopes(_ dataDirectory: String) throws -> [Envelope] {
    var result: [Envelope] = []
    for file in RawLayout(dataDirectory: dataDirectory).listFiles() {
        try RawFileReader.forEachLine(path: file.path) { line in
            result.append(try Envelope.decode(line.bytes))
        }
    }
    return result
}
