import Core
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// One file of the dashboard, built once at first use: its bytes, content type and a strong
/// ETag (a digest of the bytes, so it changes exactly when the file does), and the same file
/// gzipped once (the script is ~50 KB, ~13 KB gzipped) with its own strong ETag: another
/// content coding is another representation (RFC 9110 §8.8.3).
struct DashboardAsset: Sendable {
    let bytes: [UInt8]
    let contentType: String
    let etag: String
    let gzipped: [UInt8]
    let gzippedETag: String

    init(bytes: [UInt8], contentType: String) {
        self.bytes = bytes
        self.contentType = contentType
        let digest = SHA256.hash(data: bytes).prefix(16).map { byte -> String in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        etag = "\"" + digest + "\""
        gzipped = Gzip.deflate(bytes)
        gzippedETag = "\"" + digest + "-gzip\""
    }

    /// The ETag without quotes, for `?v=` cache busting in the page's asset links.
    var version: String { String(etag.dropFirst().dropLast()) }
}

/// The dashboard's three files, `Resources/index.html`, `app.js` and `app.css`, embedded in the
/// binary at build time (SwiftPM `embedInCode`), so the product stays one file. The page links
/// the assets with `?v=<digest>` so a browser holding an old copy asks again after an upgrade
/// even before revalidating.
enum DashboardAssets {
    static let stylesheet = DashboardAsset(bytes: PackageResources.app_css, contentType: "text/css; charset=utf-8")
    static let script = DashboardAsset(bytes: PackageResources.app_js, contentType: "text/javascript; charset=utf-8")
    static let page = DashboardAsset(
        bytes: Array(String(decoding: PackageResources.index_html, as: UTF8.self)
            .replacingOccurrences(of: "{{STYLE_VERSION}}", with: stylesheet.version)
            .replacingOccurrences(of: "{{SCRIPT_VERSION}}", with: script.version).utf8),
        contentType: "text/html; charset=utf-8")

    /// Only our own origin: no CDN, no inline script, no framing. `connect-src 'self'` keeps
    /// the token from ever leaving for another host; `blob:` is for the CSV download link.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        + "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

/// `GET /`, `GET /assets/app.js`, `GET /assets/app.css`: the dashboard for people, which
/// calls only the `/api/v1` endpoints (CONTRACT §7).
public struct DashboardRoutes: Sendable {
    public init() {}

    func register<Context: RequestContext>(on router: Router<Context>, table: RouteTable) {
        table.on(router, .get, "/") { request, _ -> Response in Self.serve(DashboardAssets.page, for: request) }
        table.on(router, .get, "/assets/app.js") { request, _ -> Response in Self.serve(DashboardAssets.script, for: request) }
        table.on(router, .get, "/assets/app.css") { request, _ -> Response in Self.serve(DashboardAssets.stylesheet, for: request) }
    }

    static func serve(_ asset: DashboardAsset, for request: Request) -> Response {
        let gzip = APIResponses.acceptsGzip(request) && asset.gzipped.count < asset.bytes.count
        var headers = HTTPFields()
        headers[.eTag] = gzip ? asset.gzippedETag : asset.etag
        // Revalidate every time: the answer is a cheap 304 and an upgrade shows up at once.
        headers[.cacheControl] = "no-cache"
        headers[.vary] = "Accept-Encoding"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.contentSecurityPolicy] = DashboardAssets.contentSecurityPolicy
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        if let condition = request.headers[.ifNoneMatch] {
            // Either coding's copy is current: a copy held in one coding stays good when the
            // client now accepts the other.
            for tag in [asset.etag, asset.gzippedETag] where Self.matches(ifNoneMatch: condition, etag: tag) {
                headers[.eTag] = tag
                return Response(status: .notModified, headers: headers)
            }
        }
        headers[.contentType] = asset.contentType
        if gzip { headers[.contentEncoding] = "gzip" }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: gzip ? asset.gzipped : asset.bytes)))
    }

    /// RFC 9110 §13.1.2: `*` or any listed tag, compared weakly (a `W/` prefix is ignored).
    static func matches(ifNoneMatch header: String, etag: String) -> Bool {
        for candidate in header.split(separator: ",") {
            var tag = candidate.trimmingCharacters(in: .whitespaces)
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            if tag == etag { return true }
        }
        return false
    }
}
