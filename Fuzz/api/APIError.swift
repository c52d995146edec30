import Hummingbird

/// The fuzz build's stand-in for Sources/Server/JSONResponse.swift's `APIError` (that file
/// needs the HTTP stack): the same initializer and fields.
public struct APIError: Error {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String

    public init(_ status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }
}
