import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import XCTest
import Core
@testable import Server

/// In-process: the dashboard's three files, their content types, ETags and 304s.
final class DashboardRouteTests: XCTestCase {
    func withRouter(_ body: @escaping @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let router = Router(context: TrackhouseRequestContext.self)
        DashboardRoutes().register(on: router, table: RouteTable())
        try await Application(router: router).test(.router) { client in try await body(client) }
    }

    struct Fetched: Sendable {
        let status: Int
        let headers: HTTPFields
        let body: String
    }

    static func get(_ client: some TestClientProtocol, _ path: String, ifNoneMatch: String? = nil) async throws -> Fetched {
        var headers = HTTPFields()
        if let ifNoneMatch { headers[.ifNoneMatch] = ifNoneMatch }
        return try await client.execute(uri: path, method: .get, headers: headers) { response in
            Fetched(status: Int(response.status.code), headers: response.headers, body: String(buffer: response.body))
        }
    }

    func testPageLinksTheAssetsWithTheirDigests() async throws {
        try await withRouter { client in
            let page = try await Self.get(client, "/")
            XCTAssertEqual(page.status, 200)
            XCTAssertEqual(page.headers[.contentType], "text/html; charset=utf-8")
            XCTAssertTrue(page.body.hasPrefix("<!doctype html>"))
            XCTAssertTrue(page.body.contains(#"<script src="/assets/app.js?v=\#(DashboardAssets.script.version)" defer></script>"#))
            XCTAssertTrue(page.body.contains(#"<link rel="stylesheet" href="/assets/app.css?v=\#(DashboardAssets.stylesheet.version)">"#))
            XCTAssertTrue(page.body.contains(#"id="token-input""#))
            XCTAssertEqual(page.headers[.xContentTypeOptions], "nosniff")
            XCTAssertTrue(page.headers[.contentSecurityPolicy]?.contains("connect-src 'self'") ?? false)
        }
    }

    func testAssetsHaveTheirContentTypes() async throws {
        try await withRouter { client in
            let script = try await Self.get(client, "/assets/app.js")
            XCTAssertEqual(script.status, 200)
            XCTAssertEqual(script.headers[.contentType], "text/javascript; charset=utf-8")
            XCTAssertTrue(script.body.contains("'/api/v1'"))
            XCTAssertTrue(script.body.hasSuffix("})();\n"))
            let style = try await Self.get(client, "/assets/app.css")
            XCTAssertEqual(style.status, 200)
            XCTAssertEqual(style.headers[.contentType], "text/css; charset=utf-8")
            XCTAssertTrue(style.body.contains(".hbar"))
        }
    }

    func testStrongETagAndNotModified() async throws {
        try await withRouter { client in
            for path in ["/", "/assets/app.js", "/assets/app.css"] {
                let first = try await Self.get(client, path)
                let etag = try XCTUnwrap(first.headers[.eTag], path)
                XCTAssertTrue(etag.hasPrefix("\"") && etag.hasSuffix("\"") && !etag.hasPrefix("W/"), etag)
                XCTAssertEqual(first.headers[.cacheControl], "no-cache")
                let again = try await Self.get(client, path, ifNoneMatch: "\"other\", " + etag)
                XCTAssertEqual(again.status, 304, path)
                XCTAssertEqual(again.body, "")
                XCTAssertEqual(again.headers[.eTag], etag)
                let stale = try await Self.get(client, path, ifNoneMatch: "\"stale\"")
                XCTAssertEqual(stale.status, 200, path)
            }
        }
    }

    /// A client accepting gzip gets each file gzipped, with its own strong ETag and `Vary`;
    /// one that does not, the plain bytes; a copy held in either coding revalidates to 304.
    func testGzipWhenAccepted() async throws {
        try await withRouter { client in
            for (path, asset) in [("/", DashboardAssets.page), ("/assets/app.js", DashboardAssets.script), ("/assets/app.css", DashboardAssets.stylesheet)] {
                var headers = HTTPFields()
                headers[.acceptEncoding] = "br;q=1.0, gzip;q=0.8"
                let (status, responseHeaders, body) = try await client.execute(uri: path, method: .get, headers: headers) { response in
                    (response.status.code, response.headers, Array(buffer: response.body))
                }
                XCTAssertEqual(status, 200, path)
                XCTAssertEqual(responseHeaders[.contentEncoding], "gzip", path)
                XCTAssertEqual(responseHeaders[.vary], "Accept-Encoding")
                XCTAssertEqual(try Gzip.inflate(body), asset.bytes, path)
                XCTAssertLessThan(body.count, asset.bytes.count * 2 / 3, "\(path): worth compressing")
                let gzipTag = try XCTUnwrap(responseHeaders[.eTag])
                XCTAssertNotEqual(gzipTag, asset.etag, "another coding, another strong ETag")
                let plain = try await Self.get(client, path)
                XCTAssertNil(plain.headers[.contentEncoding])
                XCTAssertEqual(plain.headers[.eTag], asset.etag)
                XCTAssertEqual(plain.headers[.vary], "Accept-Encoding")
                headers[.ifNoneMatch] = asset.etag
                let revalidated = try await client.execute(uri: path, method: .get, headers: headers) { $0.status.code }
                XCTAssertEqual(revalidated, 304)
                let revalidatedGzip = try await Self.get(client, path, ifNoneMatch: gzipTag)
                XCTAssertEqual(revalidatedGzip.status, 304)
                XCTAssertEqual(revalidatedGzip.headers[.eTag], gzipTag)
                headers[.acceptEncoding] = "gzip;q=0, identity"
                headers[.ifNoneMatch] = nil
                let refused = try await client.execute(uri: path, method: .get, headers: headers) { $0.headers[.contentEncoding] }
                XCTAssertNil(refused, "gzip;q=0 is a refusal")
            }
        }
    }

    /// The page must not pull anything from another origin (no CDN, no web fonts).
    func testNoExternalReferences() {
        for asset in [DashboardAssets.page, DashboardAssets.script, DashboardAssets.stylesheet] {
            // The SVG namespace is an identifier, not a fetch.
            let text = String(decoding: asset.bytes, as: UTF8.self).replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
            for needle in ["http://", "https://", "//cdn", "@import", "url(", "@font-face"] {
                XCTAssertFalse(text.contains(needle), "\(asset.contentType) contains \(needle)")
            }
        }
    }

    func testIfNoneMatchParsing() {
        XCTAssertTrue(DashboardRoutes.matches(ifNoneMatch: "*", etag: "\"a\""))
        XCTAssertTrue(DashboardRoutes.matches(ifNoneMatch: "W/\"a\"", etag: "\"a\""))
        XCTAssertTrue(DashboardRoutes.matches(ifNoneMatch: "\"b\" ,\"a\"", etag: "\"a\""))
        XCTAssertFalse(DashboardRoutes.matches(ifNoneMatch: "\"ab\"", etag: "\"a\""))
    }
}
