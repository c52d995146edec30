import Foundation
import Logging
@testable import Mail
import NIOCore
import NIOPosix
import TrackhouseTestSupport
import XCTest

/// The SMTP client against a real server (aiosmtpd, `SMTPTestServer`): STARTTLS on a
/// self-signed certificate, AUTH, the message as Python's `email` package reads it, and every
/// failure classified for the retry policy.
final class SMTPLiveTests: XCTestCase {
    var directory = ""

    override func setUp() {
        directory = makeTemporaryDirectory(name)
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

    func client(_ server: SMTPTestServer, trust: SMTPSettings.TLSTrust? = nil, password: String = SMTPTestServer.password,
                security: SMTPSettings.Security? = nil, timeouts: SMTPSettings.Timeouts = .init()) -> SMTPClient {
        SMTPClient(settings: SMTPSettings(
            host: "localhost", port: server.port,
            security: security ?? .startTLS(trust ?? .certificateFile(server.certificatePath)),
            credentials: security == SMTPSettings.Security.none ? nil : SMTPCredentials(username: SMTPTestServer.username, password: password),
            timeouts: timeouts), logger: quietLogger)
    }

    static func figures() -> DigestFigures {
        var figures = DigestFigures(projectID: "acme-seo", projectName: "Acme SÉO ✓ <b>&",
                                    period: DigestPeriod.containing(UTCTimeFixture.dec1, frequency: .weekly))
        figures.newSites = 12
        figures.deactivations = 5
        figures.reasons = [.init(reasonID: "found-better-plugin", count: 3), .init(reasonID: "<script>alert(1)</script>", count: 1),
                           .init(reasonID: nil, count: 1)]
        figures.activeSites = 345
        figures.reportingSites = 300
        figures.phpVersions = .init(total: 345, values: [.init(value: "8.1", sites: 200), .init(value: "7.4", sites: 100),
                                                         .init(value: nil, sites: 5)], other: 40)
        figures.wordpressVersions = .init(total: 345, values: [.init(value: "6.4", sites: 345)], other: 0)
        return figures
    }

    func testDigestArrivesOverSTARTTLSWithAuthAndBothPartsParse() async throws {
        let server = try server()
        let figures = Self.figures()
        let message = DigestMail.compose(figures, from: MailAddress("digest@trackhouse.test", name: "Trackhouse"),
                                         to: [MailAddress("vendor@acme.test")], deliveryID: "digest:acme-seo:mail:2026-11-30")
        let receipt = try await client(server).send(message.rendered(), from: "digest@trackhouse.test", to: ["vendor@acme.test"])
        XCTAssertTrue(receipt.usedTLS)
        XCTAssertEqual(receipt.authMechanism, "PLAIN")
        XCTAssertEqual(receipt.reply.code, 250)

        let received = try XCTUnwrap(server.waitForMessages(1).first)
        XCTAssertEqual(received["tls"] as? Bool, true, "the message came over STARTTLS")
        XCTAssertEqual(received["authenticated"] as? Bool, true)
        XCTAssertEqual(received["login"] as? String, "mailer")
        XCTAssertEqual(received["mechanism"] as? String, "PLAIN")
        XCTAssertEqual(received["mail_from"] as? String, "digest@trackhouse.test")
        XCTAssertEqual(received["rcpt_tos"] as? [String], ["vendor@acme.test"])
        XCTAssertEqual(received["content_type"] as? String, "multipart/alternative")
        XCTAssertEqual(received["defects"] as? [String], [], "Python's email package found defects")
        XCTAssertLessThanOrEqual(received["max_line"] as? Int ?? 999, 998, "RFC 5322's line limit")
        let headers = try XCTUnwrap(received["headers"] as? [String: String])
        XCTAssertEqual(headers["subject"], DigestMail.subject(figures), "the encoded-word subject decodes to the original")
        XCTAssertEqual(headers["from"], "Trackhouse <digest@trackhouse.test>")
        XCTAssertEqual(headers["mime-version"], "1.0")
        XCTAssertEqual(headers["auto-submitted"], "auto-generated")
        XCTAssertNotNil(headers["date"])
        XCTAssertEqual(headers["message-id"], message.messageID)

        let parts = try XCTUnwrap(received["parts"] as? [[String: Any]])
        XCTAssertEqual(parts.map { $0["type"] as? String }, ["text/plain", "text/html"])
        let text = try XCTUnwrap(parts[0]["content"] as? String)
        let html = try XCTUnwrap(parts[1]["content"] as? String)
        XCTAssertEqual(text.replacingOccurrences(of: "\r\n", with: "\n"), DigestMail.text(figures), "the text part survives the trip unchanged")
        XCTAssertTrue(text.contains("Acme SÉO ✓ <b>&"))
        XCTAssertTrue(text.contains("New sites"))
        XCTAssertTrue(text.contains("I found a better plugin"))
        XCTAssertTrue(html.contains("<table"))
        XCTAssertTrue(html.contains("Acme SÉO ✓ &lt;b&gt;&amp;"), "site-controlled text is escaped in HTML")
        XCTAssertFalse(html.contains("<script"), "no script, not even from a hostile reason id")
        XCTAssertFalse(html.contains("src="), "no external images")
        XCTAssertEqual(parts[0]["charset"] as? String, "utf-8")
        XCTAssertEqual(parts[1]["cte"] as? String, "quoted-printable")
    }

    func testAuthLoginWhenPlainIsNotOffered() async throws {
        let server = try server(.loginOnly)
        let message = Self.plainMessage()
        let receipt = try await client(server).send(message.rendered(), from: "a@trackhouse.test", to: ["b@acme.test"])
        XCTAssertEqual(receipt.authMechanism, "LOGIN")
        let received = try XCTUnwrap(server.waitForMessages(1).first)
        XCTAssertEqual(received["mechanism"] as? String, "LOGIN")
        XCTAssertEqual(received["tls"] as? Bool, true)
    }

    func testForwardArrivesWithReasonContactAndReplyTo() async throws {
        let server = try server()
        var details = DeactivationDetails(eventID: "ev-123", receivedAt: UTCTimeFixture.dec1, projectID: "acme-seo", projectName: "Acme SEO")
        details.reasonID = "found-better-plugin"
        details.reasonInfo = "Switched to Yoast.\nThanks anyway ☺"
        details.siteKey = "example.com"
        details.url = "https://www.example.com/"
        details.siteName = "Example <Shop>"
        details.adminEmail = "owner@example.com"
        details.firstName = "Ana"
        details.lastName = "Lima"
        details.projectVersion = "2.3.1"
        let message = DeactivationForwardMail.compose(details, from: MailAddress("th@trackhouse.test"), to: [MailAddress("support@acme.test")], deliveryID: "ev-123")
        _ = try await client(server, trust: .unverified).send(message.rendered(), from: "th@trackhouse.test", to: ["support@acme.test"])
        let received = try XCTUnwrap(server.waitForMessages(1).first)
        let headers = try XCTUnwrap(received["headers"] as? [String: String])
        XCTAssertEqual(headers["reply-to"], "Ana Lima <owner@example.com>")
        XCTAssertEqual(headers["subject"], "[Acme SEO] Deactivated on example.com: I found a better plugin")
        let parts = try XCTUnwrap(received["parts"] as? [[String: Any]])
        let text = try XCTUnwrap(parts.first?["content"] as? String)
        for expected in ["found-better-plugin", "I found a better plugin", "Switched to Yoast.", "Thanks anyway ☺", "https://www.example.com/",
                         "Example <Shop>", "Ana Lima <owner@example.com>", "2.3.1"] {
            XCTAssertTrue(text.contains(expected), "the text part lacks \(expected)")
        }
        XCTAssertTrue((parts.last?["content"] as? String ?? "").contains("Example &lt;Shop&gt;"))
    }

    func testSelfSignedCertificateIsRefusedByDefault() async throws {
        let server = try server()
        do {
            _ = try await client(server, trust: .system).send(Self.plainMessage().rendered(), from: "a@trackhouse.test", to: ["b@acme.test"])
            XCTFail("a self-signed certificate passed the system trust roots")
        } catch let error as SMTPError {
            XCTAssertEqual(error.code, .tls)
            XCTAssertEqual(error.step, .tlsHandshake)
        }
        XCTAssertEqual(server.messages().count, 0)
    }

    func testWrongPasswordIsPermanentAndNeverPrinted() async throws {
        let server = try server()
        do {
            _ = try await client(server, password: "wrong-Pa55").send(Self.plainMessage().rendered(), from: "a@trackhouse.test", to: ["b@acme.test"])
            XCTFail("a wrong password was accepted")
        } catch let error as SMTPError {
            XCTAssertEqual(error.step, .auth)
            XCTAssertEqual(error.reply?.code, 535)
            XCTAssertFalse(error.isTransient)
            XCTAssertFalse(error.description.contains("wrong-Pa55"))
            XCTAssertFalse(error.description.contains(Base64.encode(Array("\0mailer\0wrong-Pa55".utf8))))
        }
    }

    func testRecipientRefusalsAreClassified() async throws {
        let server = try server()
        for (recipient, transient) in [("reject-perm@acme.test", false), ("reject-temp@acme.test", true)] {
            do {
                _ = try await client(server).send(Self.plainMessage().rendered(), from: "a@trackhouse.test", to: [recipient])
                XCTFail("\(recipient) was accepted")
            } catch let error as SMTPError {
                XCTAssertEqual(error.step, .rcptTo)
                XCTAssertEqual(error.code, .rejected)
                XCTAssertEqual(error.isTransient, transient, "\(error)")
                XCTAssertFalse(error.description.contains(recipient), "addresses in server replies are masked: \(error)")
            }
        }
        XCTAssertEqual(server.messages().count, 0)
    }

    func testGreeting421IsTransient() async throws {
        let server = try server(.greeting421)
        do {
            _ = try await client(server).send(Self.plainMessage().rendered(), from: "a@trackhouse.test", to: ["b@acme.test"])
            XCTFail("a 421 greeting went on")
        } catch let error as SMTPError {
            XCTAssertEqual(error.step, .greeting)
            XCTAssertEqual(error.reply?.code, 421)
            XCTAssertTrue(error.isTransient)
        }
    }

    func testSilentServerTimesOutAtTheGreeting() async throws {
        let server = try server(.silent)
        let started = Date()
        do {
            _ = try await client(server, timeouts: .init(connect: .seconds(2), command: .milliseconds(500))).send(
                Self.plainMessage().rendered(), from: "a@trackhouse.test", to: ["b@acme.test"])
            XCTFail("a silent server was taken for a working one")
        } catch let error as SMTPError {
            XCTAssertEqual(error.code, .timeout)
            XCTAssertEqual(error.step, .greeting)
            XCTAssertTrue(error.isTransient)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
    }

    func testMissingSTARTTLSIsPermanentWhenRequired() async throws {
        let server = try server(.plain)
        do {
            _ = try await client(server).send(Self.plainMessage().rendered(), from: "a@trackhouse.test", to: ["b@acme.test"])
            XCTFail("sent without the TLS the settings require")
        } catch let error as SMTPError {
            XCTAssertEqual(error.code, .unsupported)
            XCTAssertEqual(error.step, .startTLS)
            XCTAssertFalse(error.isTransient)
        }
        XCTAssertEqual(server.messages().count, 0)
        // Without TLS and without credentials (a local relay), the same server takes the message.
        _ = try await client(server, security: SMTPSettings.Security.none).send(Self.plainMessage().rendered(), from: "a@trackhouse.test", to: ["b@acme.test"])
        XCTAssertEqual(server.waitForMessages(1).first?["tls"] as? Bool, false)
    }

    func testBytesInjectedBeforeTLSAreRefused() async throws {
        let server = try server(.injectAfterStartTLS)
        do {
            _ = try await client(server, trust: .unverified).send(Self.plainMessage().rendered(), from: "a@trackhouse.test", to: ["b@acme.test"])
            XCTFail("went on after bytes injected before TLS")
        } catch let error as SMTPError {
            XCTAssertEqual(error.code, .protocolViolation)
            XCTAssertEqual(error.step, .startTLS)
        }
    }

    func testConnectionRefusedIsTransient() async throws {
        // A port nothing listens on: bind one, note it, close it.
        let socket = try ServerSocketFixture.unusedPort()
        let client = SMTPClient(settings: SMTPSettings(host: "127.0.0.1", port: socket, security: .startTLS(.system)), logger: quietLogger)
        do {
            _ = try await client.send(Self.plainMessage().rendered(), from: "a@trackhouse.test", to: ["b@acme.test"])
            XCTFail("connected to nothing")
        } catch let error as SMTPError {
            XCTAssertEqual(error.code, .network)
            XCTAssertEqual(error.step, .connect)
            XCTAssertTrue(error.isTransient)
        }
    }

    func testCredentialsAreRefusedWithoutTLS() async throws {
        let client = SMTPClient(settings: SMTPSettings(host: "127.0.0.1", port: 1, security: .none,
                                                       credentials: SMTPCredentials(username: "u", password: "p")), logger: quietLogger)
        do {
            _ = try await client.send(Self.plainMessage().rendered(), from: "a@trackhouse.test", to: ["b@acme.test"])
            XCTFail("credentials would have gone out in plain text")
        } catch let error as SMTPError {
            XCTAssertEqual(error.code, .invalidRequest)
            XCTAssertFalse(error.isTransient)
        }
    }

    static func plainMessage() -> MailMessage {
        MailMessage(from: MailAddress("a@trackhouse.test"), to: [MailAddress("b@acme.test")], subject: "hello",
                    text: "line one\n.line starting with a dot\n", date: UTCTimeFixture.dec1, messageID: "<t.1@trackhouse.test>")
    }
}

enum UTCTimeFixture {
    /// 2026-12-01T00:00:00Z, a Tuesday.
    static let dec1: Int64 = 1_796_083_200_000_000
}

enum ServerSocketFixture {
    /// A loopback port that was free a moment ago.
    static func unusedPort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress?.port ?? 1
        try channel.close().wait()
        return port
    }
}
