import Core
import Foundation
@testable import Integrations
import Mail
import TrackhouseTestSupport
import XCTest

/// The email kinds against a real SMTP server (aiosmtpd with STARTTLS and AUTH): what arrives,
/// and how SMTP failures become outbox outcomes.
final class MailKindsTests: XCTestCase {
    var directory = ""

    override func setUp() {
        directory = makeTemporaryDirectory(name)
        setenv("TH_MAILTEST_USER", SMTPTestServer.username, 1)
        setenv("TH_MAILTEST_PASSWORD", SMTPTestServer.password, 1)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func server(_ mode: SMTPTestServer.Mode = .real) throws -> SMTPTestServer {
        guard let server = try SMTPTestServer.start(mode, directory: directory) else {
            throw XCTSkip("set TRACKHOUSE_PYTHON to a python with aiosmtpd (and have openssl) to run the SMTP tests")
        }
        return server
    }

    func settings(_ kind: String, _ server: SMTPTestServer, to: String = "support@acme.test", extra: [String: String] = [:]) -> IntegrationSettings {
        var fields = ["smtp_host": "localhost", "smtp_port": String(server.port), "smtp_username_env": "TH_MAILTEST_USER",
                      "smtp_password_env": "TH_MAILTEST_PASSWORD", "from": "Trackhouse <th@trackhouse.test>", "to": to,
                      "tls_ca_file": server.certificatePath]
        for (key, value) in extra { fields[key] = value }
        return IntegrationSettings(projectID: "acme-seo", id: "mail", kind: kind, sinceMicros: 0, fields: fields)
    }

    static func deactivation(id: String = "ev-1") -> Delivery {
        let site = JSONObject([("site_key", .string("example.com")), ("url", .string("https://example.com")),
                               ("site_name", .string("Example Shop")), ("admin_email", .string("owner@example.com")),
                               ("first_name", .string("Ana")), ("last_name", .string("Lima")),
                               ("project_version", .string("2.3.1")), ("wp_version", .string("6.4.2")), ("php_version", .string("8.1.2"))])
        let body = JSONObject([("id", .string(id)), ("type", .string("site.deactivated")), ("project_id", .string("acme-seo")),
                               ("occurred_at", .string("2026-12-01T10:00:00Z")), ("site", .object(site)),
                               ("reason_id", .string("is-not-working")), ("reason_info", .string("It broke checkout"))])
        return Delivery(id: id, type: "site.deactivated", projectID: "acme-seo", siteKey: "example.com", body: .object(body), attempt: 1)
    }

    func testForwardIsDeliveredWithReasonAndContact() async throws {
        let server = try server()
        let outcome = await DeactivationForwardKind(settings: settings("deactivation_forward", server))
            .deliver(Self.deactivation(), http: DeliveryHTTP(options: .init()))
        XCTAssertEqual(outcome, .delivered(status: 250))
        let received = try XCTUnwrap(server.waitForMessages(1).first)
        XCTAssertEqual(received["tls"] as? Bool, true)
        XCTAssertEqual(received["authenticated"] as? Bool, true)
        XCTAssertEqual(received["rcpt_tos"] as? [String], ["support@acme.test"])
        let headers = try XCTUnwrap(received["headers"] as? [String: String])
        XCTAssertEqual(headers["subject"], "[acme-seo] Deactivated on example.com: The plugin is not working")
        XCTAssertEqual(headers["reply-to"], "Ana Lima <owner@example.com>")
        XCTAssertEqual(headers["x-trackhouse-delivery"], "ev-1")
        let parts = try XCTUnwrap(received["parts"] as? [[String: Any]])
        XCTAssertEqual(parts.map { $0["type"] as? String }, ["text/plain", "text/html"])
        let text = try XCTUnwrap(parts[0]["content"] as? String)
        for expected in ["is-not-working", "It broke checkout", "https://example.com", "Example Shop", "owner@example.com", "2.3.1"] {
            XCTAssertTrue(text.contains(expected), "the forward lacks \(expected)")
        }
    }

    func testSMTPFailuresBecomeRetryOrDead() async throws {
        let server = try server()
        let http = DeliveryHTTP(options: .init())
        let permanent = await DeactivationForwardKind(settings: settings("deactivation_forward", server, to: "reject-perm@acme.test"))
            .deliver(Self.deactivation(), http: http)
        guard case .dead(let status, _) = permanent else { return XCTFail("550 should be dead: \(permanent)") }
        XCTAssertEqual(status, 550)
        let transient = await DeactivationForwardKind(settings: settings("deactivation_forward", server, to: "reject-temp@acme.test"))
            .deliver(Self.deactivation(), http: http)
        guard case .retry(let tempStatus, _, _) = transient else { return XCTFail("451 should be retried: \(transient)") }
        XCTAssertEqual(tempStatus, 451)
        unsetenv("TH_MAILTEST_PASSWORD")
        let missing = await DeactivationForwardKind(settings: settings("deactivation_forward", server)).deliver(Self.deactivation(), http: http)
        guard case .retry(_, let error, _) = missing else { return XCTFail("a missing secret should be retried: \(missing)") }
        XCTAssertTrue(error.contains("TH_MAILTEST_PASSWORD"))
        XCTAssertEqual(server.messages().count, 0)
        setenv("TH_MAILTEST_PASSWORD", SMTPTestServer.password, 1)
        let busy = try self.server(.greeting421)
        let closing = await DeactivationForwardKind(settings: settings("deactivation_forward", busy)).deliver(Self.deactivation(), http: http)
        guard case .retry(let busyStatus, _, _) = closing else { return XCTFail("421 should be retried: \(closing)") }
        XCTAssertEqual(busyStatus, 421)
    }

    func testDigestEntryIsRenderedAndDelivered() async throws {
        let server = try server()
        var figures = DigestFigures(projectID: "acme-seo", projectName: "Acme SEO",
                                    period: DigestPeriod.containing(UTCTime.parseISO("2026-11-15T00:00:00Z")!, frequency: .monthly))
        figures.newSites = 7
        figures.deactivations = 2
        figures.reasons = [.init(reasonID: "other", count: 2)]
        figures.activeSites = 40
        figures.phpVersions = .init(total: 40, values: [.init(value: "8.2", sites: 30)], other: 10)
        XCTAssertEqual(DigestFigures(json: figures.json), figures, "the outbox body reads back as the same figures")
        let period = figures.period
        let id = EmailDigestKind.deliveryID(projectID: "acme-seo", integrationID: "mail", period: period)
        XCTAssertEqual(id, "digest:acme-seo:mail:2026-11-01T00:00:00Z")
        let delivery = Delivery(id: id, type: EmailDigestKind.entryType, projectID: "acme-seo", siteKey: "", body: figures.json, attempt: 1)
        let outcome = await EmailDigestKind(settings: settings("email_digest", server, extra: ["period": "monthly"]))
            .deliver(delivery, http: DeliveryHTTP(options: .init()))
        XCTAssertEqual(outcome, .delivered(status: 250))
        let received = try XCTUnwrap(server.waitForMessages(1).first)
        let parts = try XCTUnwrap(received["parts"] as? [[String: Any]])
        XCTAssertEqual(parts.map { $0["type"] as? String }, ["text/plain", "text/html"])
        XCTAssertEqual((parts[0]["content"] as? String)?.replacingOccurrences(of: "\r\n", with: "\n"), DigestMail.text(figures))
        XCTAssertTrue((parts[1]["content"] as? String ?? "").contains("bgcolor"))
        let broken = Delivery(id: id, type: EmailDigestKind.entryType, projectID: "acme-seo", siteKey: "", body: .object(JSONObject()), attempt: 1)
        guard case .dead = await EmailDigestKind(settings: settings("email_digest", server, extra: ["period": "monthly"]))
            .deliver(broken, http: DeliveryHTTP(options: .init())) else { return XCTFail("a body without figures is dead") }
    }

    /// The SMTP fields are parsed once, when the kind is made (the worker keeps one per
    /// integration), not at each delivery; a refused field is dead at once, naming it, without
    /// a connection.
    func testEmailKindsParseTheirFieldsOnceAtInit() async throws {
        let fields = ["smtp_host": "mail.acme.test", "smtp_port": "2525", "from": "Trackhouse <th@acme.test>",
                      "to": "a@acme.test, b@acme.test", "period": "weekly", "starttls": "none"]
        let forward = DeactivationForwardKind(settings: IntegrationSettings(projectID: "acme", id: "fw", kind: "deactivation_forward",
                                                                            sinceMicros: 0, fields: fields))
        let digest = EmailDigestKind(settings: IntegrationSettings(projectID: "acme", id: "dg", kind: "email_digest",
                                                                   sinceMicros: 0, fields: fields))
        for parsed in [try forward.mail.config.get(), try digest.mail.config.get()] {
            XCTAssertEqual(parsed.host, "mail.acme.test")
            XCTAssertEqual(parsed.port, 2525)
            XCTAssertEqual(parsed.to.map(\.address), ["a@acme.test", "b@acme.test"])
        }
        XCTAssertEqual(try digest.mail.config.get().period, .weekly)
        var broken = fields
        broken["smtp_port"] = "99999"
        let refused = DeactivationForwardKind(settings: IntegrationSettings(projectID: "acme", id: "fw", kind: "deactivation_forward",
                                                                            sinceMicros: 0, fields: broken))
        guard case .dead(nil, let error) = await refused.deliver(Self.deactivation(), http: DeliveryHTTP(options: .init())) else {
            return XCTFail("a refused field must be dead at once")
        }
        XCTAssertTrue(error.contains("smtp_port"), error)
    }

    func testRegistryEntriesAreCheckedWhenRead() {
        let registry = """
        {"projects":[{"id":"acme-seo","name":"Acme","hash":"h","integrations":[
          {"id":"digest","kind":"email_digest","since":"2026-12-01T00:00:00Z","smtp_host":"smtp.example.com","from":"a@x.test","to":"b@y.test","period":"weekly"},
          {"id":"fwd","kind":"deactivation_forward","since":"2026-12-01T00:00:00Z","smtp_host":"smtp.example.com","smtp_port":2525,"from":"a@x.test","to":"b@y.test"},
          {"id":"nope","kind":"email_digest","since":"2026-12-01T00:00:00Z","smtp_host":"smtp.example.com","from":"a@x.test","to":"b@y.test","period":"hourly"},
          {"id":"bad","kind":"deactivation_forward","since":"2026-12-01T00:00:00Z","smtp_host":"smtp.example.com","from":"a@x.test","to":"not an address"}]}]}
        """
        let catalog = IntegrationCatalog.parse(registry: Array(registry.utf8))
        XCTAssertEqual(catalog.byProject["acme-seo"]?.map(\.id), ["digest", "fwd"])
        XCTAssertEqual(catalog.errors.map(\.field), ["period", "to"])
        XCTAssertTrue(DeactivationForwardKind.accepts(.deactivated, hasAdminEmail: false), "forwarded whatever the admin email")
        XCTAssertFalse(DeactivationForwardKind.accepts(.activated, hasAdminEmail: true))
        XCTAssertFalse(EmailDigestKind.accepts(.deactivated, hasAdminEmail: true), "digests are not made from lifecycle events")
    }
}
