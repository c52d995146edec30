import ColumnStore
import Core
import Foundation
import Hummingbird
import Ingest
import Integrations
import Logging
import NIOCore

/// What the privacy endpoints need besides the readers: the data folder, the raw writer of
/// this process (an erase coordinates with it) and the rollups (refreshed before answering,
/// so the charts no longer count what was erased).
struct PrivacyContext: Sendable {
    let dataDirectory: String
    let writer: RawLogWriter?
    let rollups: RollupStore?
    /// The integrations' outboxes: an erase drops the subject's entries from them.
    let outboxes: OutboxStore
    /// Erases and exports run here, one at a time: long file work, never on the HTTP threads.
    static let queue = DispatchQueue(label: "trackhouse.privacy")
}

extension APIRoutes {
    static let privacyBodyBytesMax = 64 << 10

    /// `POST /api/v1/projects/{id}/privacy/export|erase` with `{"email": …}` or
    /// `{"site_key": …}` (CONTRACT §9). Admin tokens only: a project token gets 403 even for
    /// its own project (an erase changes data its holder cannot see the whole of).
    func privacy(_ request: Request, _ projectID: String, erase: Bool) async throws -> Response {
        let grant = try access.grant(for: request)
        guard grant == .admin else {
            throw APIError(.forbidden, code: "forbidden", message: "privacy export and erase need an admin token")
        }
        guard access.registry.registry.project(id: projectID) != nil else {
            throw APIError(.notFound, code: "not_found", message: "no project with id \"\(projectID)\"")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.privacyBodyBytesMax)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, code: "payload_too_large", message: "the body is larger than \(Self.privacyBodyBytesMax) bytes")
        }
        let subject = try Self.privacySubject(Array(body.readableBytesView))
        let context = privacy
        let logger = self.logger
        let result: Result<JSONValue, any Error> = await withCheckedContinuation { continuation in
            PrivacyContext.queue.async {
                continuation.resume(returning: Result {
                    let compactor = Compactor(dataDirectory: context.dataDirectory, logger: logger)
                    guard erase else { return try compactor.exportSubject(projectID: projectID, subject: subject) }
                    // Another process writing raw files here (an ingest-only node) cannot be
                    // paused from this one: refuse rather than lose its appends.
                    let exclusion = try RawWriterExclusion(layout: RawLayout(dataDirectory: context.dataDirectory),
                                                           excludingWriterID: context.writer?.options.writerID)
                    defer { exclusion.release() }
                    let report = try compactor.erase(projectID: projectID, subject: subject, writer: context.writer,
                                                     dropFromOtherStores: { project, subject in
                                                         try PrivacyOutbox.drop(context.outboxes, projectID: project, subject: subject)
                                                     })
                    try? context.rollups?.refresh()
                    return report.json
                })
            }
        }
        switch result {
        case .success(let value):
            return APIResponses.json(value, for: request)
        case .failure(let error as WarehouseError) where error.code == .locked:
            throw APIError(.conflict, code: "conflict", message: publicMessage(error))
        case .failure(let error as RawWriterStartError):
            throw APIError(.conflict, code: "conflict", message: publicMessage(error))
        case .failure(let error):
            logger.error("privacy request failed", metadata: ["project": "\(projectID)", "error": "\(error)"])
            throw APIError(.internalServerError, code: "privacy_failed", message: publicMessage(error))
        }
    }

    /// The body's subject: a JSON object with exactly one of `email` and `site_key`, a
    /// non-empty string. Anything else is a 400 naming the field.
    static func privacySubject(_ bytes: [UInt8]) throws -> PrivacySubject {
        func bad(_ message: String) -> APIError { APIError(.badRequest, code: "bad_request", message: message) }
        guard let value = try? JSONParser.parse(bytes), case .object(let object) = value else {
            throw bad("the body must be a JSON object {\"email\": \"…\"} or {\"site_key\": \"…\"}")
        }
        if let unknown = object.keys.first(where: { $0 != "email" && $0 != "site_key" }) {
            throw bad("field \(unknown): unknown; give \"email\" or \"site_key\"")
        }
        switch (object["email"], object["site_key"]) {
        case (.some, .some):
            throw bad("field site_key: give either \"email\" or \"site_key\", not both")
        case (.some(let email), nil):
            guard case .string(let text) = email, let subject = PrivacySubject.email(normalizing: text) else {
                throw bad("field email: must be a non-empty string")
            }
            return subject
        case (nil, .some(let site)):
            guard case .string(let text) = site, let subject = PrivacySubject.site(normalizing: text) else {
                throw bad("field site_key: must be a non-empty string")
            }
            return subject
        case (nil, nil):
            throw bad("field email: missing; the body must hold \"email\" or \"site_key\"")
        }
    }
}

/// The outbox side of an erase (CONTRACT §8's entries carry the site's columns, its email
/// among them): entries of the site, or of sites whose `admin_email` is the email, go.
public enum PrivacyOutbox {
    public static func drop(_ outboxes: OutboxStore, projectID: String, subject: PrivacySubject) throws {
        switch subject {
        case .email(let email): try outboxes.dropEntries(projectID: projectID, emails: [email])
        case .site(let key): try outboxes.dropEntries(projectID: projectID, siteKeys: [key])
        }
    }
}
