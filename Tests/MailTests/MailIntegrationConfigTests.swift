@testable import Mail
import XCTest

final class MailIntegrationConfigTests: XCTestCase {
    let base = ["smtp_host": "smtp.example.com", "from": "Trackhouse <digest@example.com>", "to": "a@x.test, \"B, Inc\" <b@y.test>",
                "smtp_username_env": "U_ENV", "smtp_password_env": "P_ENV", "period": "weekly"]

    func parse(_ changes: [String: String?], needsPeriod: Bool = true) -> Result<MailIntegrationConfig, MailIntegrationConfig.Problem> {
        var fields = base
        for (key, value) in changes { fields[key] = value }
        return MailIntegrationConfig.parse(fields, needsPeriod: needsPeriod)
    }

    func problemField(_ changes: [String: String?], needsPeriod: Bool = true) -> String? {
        if case .failure(let problem) = parse(changes, needsPeriod: needsPeriod) { return problem.field }
        return nil
    }

    func testDefaultsAndAddresses() throws {
        let config = try parse([:]).get()
        XCTAssertEqual(config.port, 587)
        XCTAssertEqual(config.security, .startTLS(.system))
        XCTAssertEqual(config.to, [MailAddress("a@x.test"), MailAddress("b@y.test", name: "B, Inc")])
        XCTAssertEqual(config.period, .weekly)
        XCTAssertEqual(try parse(["tls_verify": "none"]).get().security, .startTLS(.unverified))
        XCTAssertEqual(try parse(["tls_ca_file": "/etc/ca.pem"]).get().security, .startTLS(.certificateFile("/etc/ca.pem")))
        XCTAssertEqual(try parse(["starttls": "none", "smtp_username_env": nil, "smtp_password_env": nil]).get().security, SMTPSettings.Security.none)
        XCTAssertNil(try parse(["period": nil], needsPeriod: false).get().period)
    }

    func testRefusalsNameTheField() {
        XCTAssertEqual(problemField(["smtp_host": nil]), "smtp_host")
        XCTAssertEqual(problemField(["smtp_host": "smtp.example.com\r\nX"]), "smtp_host")
        XCTAssertEqual(problemField(["smtp_port": "99999"]), "smtp_port")
        XCTAssertEqual(problemField(["starttls": "maybe"]), "starttls")
        XCTAssertEqual(problemField(["starttls": "none"]), "starttls", "credentials without TLS")
        XCTAssertEqual(problemField(["tls_verify": "off"]), "tls_verify")
        XCTAssertEqual(problemField(["smtp_password_env": nil]), "smtp_password_env")
        XCTAssertEqual(problemField(["from": "nobody"]), "from")
        XCTAssertEqual(problemField(["to": "a@x.test, not an address"]), "to")
        XCTAssertEqual(problemField(["to": " , "]), "to")
        XCTAssertEqual(problemField(["period": "hourly"]), "period")
    }

    func testSecretsComeFromTheEnvironmentAndErrorsNameOnlyTheVariable() throws {
        let config = try parse([:]).get()
        let settings = try config.smtpSettings(environment: ["U_ENV": "user", "P_ENV": "pa55word"])
        XCTAssertEqual(settings.credentials, SMTPCredentials(username: "user", password: "pa55word"))
        XCTAssertFalse(String(describing: settings).contains("pa55word"), "settings print without the password")
        XCTAssertFalse(String(reflecting: settings).contains("pa55word"))
        XCTAssertThrowsError(try config.smtpSettings(environment: ["U_ENV": "user"])) { error in
            XCTAssertTrue(String(describing: error).contains("P_ENV"))
        }
    }
}
