// A stand-in for the parts of Hummingbird that Sources/Server/API/APIParameters.swift names,
// so the fuzz build (scripts/fuzz.sh) can compile that file without the HTTP stack.
public struct URI: Sendable {
    public var query: String?
    public init(query: String?) { self.query = query }
}

public struct Request: Sendable {
    public var uri: URI
    public init(uri: URI) { self.uri = uri }
}

public enum HTTPResponse {
    public struct Status: Sendable, Equatable {
        public let code: Int
        public init(code: Int) { self.code = code }
        public static let badRequest = Status(code: 400)
    }
}
