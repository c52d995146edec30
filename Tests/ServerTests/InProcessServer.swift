import Foundation
import Logging
import ServiceLifecycle
import XCTest
@testable import Server

/// The server built in this process (`buildComponents` + `buildApplication`) on a real
/// port, for configurations `trackhouse serve` does not offer as flags (the router front door,
/// `ingestOnEventLoop = false`). Blocking like `ServerProcess`: call from a synchronous test.
final class InProcessServer {
    let port: Int
    let components: TrackhouseComponents
    private let group: ServiceGroup
    private let finished = DispatchSemaphore(value: 0)

    init(configuration: ServerConfiguration, frontDoorRoutes: [FrontDoorRoute] = [],
         file: StaticString = #filePath, line: UInt = #line) throws {
        var configuration = configuration
        configuration.host = "127.0.0.1"
        configuration.port = freePort()
        port = configuration.port
        components = try buildComponents(configuration: configuration, logger: quietLogger)
        let app = buildApplication(components: components, logger: quietLogger, frontDoorRoutes: frontDoorRoutes)
        let group = ServiceGroup(configuration: .init(services: [app], logger: quietLogger))
        self.group = group
        let finished = self.finished
        Task.detached {
            try? await group.run()
            finished.signal()
        }
        XCTAssertTrue(serverIsHealthy(port: port), "in-process server did not become healthy", file: file, line: line)
    }

    /// Graceful shutdown, as SIGTERM does in `serve`: the raw writer closes after the last
    /// in-flight append. Returns once the services have stopped.
    func stop() {
        let group = self.group
        Task.detached { await group.triggerGracefulShutdown() }
        _ = finished.wait(timeout: .now() + 30)
        finished.signal()  // a second `stop` returns at once
    }
}
