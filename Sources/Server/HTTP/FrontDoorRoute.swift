/// A `POST` route the embedding program adds to the server (`buildApplication(…,
/// frontDoorRoutes:)`), answered from the whole request body by a synchronous function.
///
/// It goes through the same HTTP stack as the SDK routes: on the connection's event loop by
/// the ingest front door (`IngestChannelHandler`: same body gathering, 413 over the SDK
/// routes' body limit, same response headers), or by the router on a task when
/// `ServerConfiguration.ingestOnEventLoop` is off. So a route added here costs what an SDK route costs on the HTTP stack apart from
/// its own work: the ingest benchmark's anchor (`trackhouse-bench serve`) is one that reads
/// the body and stores nothing. The answer is JSON (`Content-Type: application/json`).
public struct FrontDoorRoute: Sendable {
    /// The path as the client sends it, with its leading `/` (e.g. `/echo`); a trailing `/`
    /// and a query string are accepted, as for the SDK routes.
    public var path: String
    /// The status and JSON body for one request body. Runs on the event loop: it must not
    /// block.
    public var answer: @Sendable (_ body: [UInt8]) -> (status: Int, json: [UInt8])

    public init(path: String, answer: @escaping @Sendable (_ body: [UInt8]) -> (status: Int, json: [UInt8])) {
        self.path = path
        self.answer = answer
    }
}
