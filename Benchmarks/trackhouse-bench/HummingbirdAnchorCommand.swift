import ArgumentParser
import Hummingbird
import Logging

/// `trackhouse-bench hummingbird`: the issue's "bare Hummingbird" anchor — a Hummingbird 2
/// application written the way its template writes one (`Router`, `Application`, default
/// configuration), whose `POST /_bench/bare` collects the body and answers a small JSON,
/// storing nothing. None of Trackhouse's server is in it: the figure is what the framework
/// alone does on this machine, the ceiling a durable route built on it is compared with.
/// (`serve`'s `/_bench/bare` is the stricter anchor: our own event-loop front door, which
/// answers faster than Hummingbird's router.)
struct HummingbirdAnchorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hummingbird",
        abstract: "A bare Hummingbird 2 application: POST /_bench/bare reads the body and stores nothing.")

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port to bind.") var port = 8080
    @Option(name: .customLong("log-level")) var logLevel: Logger.Level = .warning

    func run() async throws {
        let logger = LogSetup.bootstrap(level: logLevel)
        let router = Router()
        router.post("/_bench/bare") { request, _ -> Response in
            // The same limit as the SDK routes' body limit (1 MiB).
            let body = try await request.body.collect(upTo: 1 << 20)
            let json = #"{"ok":true,"bytes":\#(body.readableBytes)}"#
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        router.get("/healthz") { _, _ in "ok" }
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
        try await app.runService()
    }
}
