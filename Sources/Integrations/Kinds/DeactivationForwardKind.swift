import Core
import Foundation
import Logging
import Mail

/// `deactivation_forward`: each deactivation, with its reason and the site's contact, mailed
/// to the configured address over SMTP (STARTTLS and AUTH; fields in `Mail`'s
/// `MailIntegrationConfig`: `smtp_host`, `smtp_port`, `smtp_username_env`,
/// `smtp_password_env`, `from`, `to`, `starttls`, `tls_verify`, `tls_ca_file`). One outbox
/// entry per `site.deactivated`, whatever the site's admin_email (the mail is for the vendor's
/// support, not a mailing list); the delivery id is the event_id, which also makes the
/// Message-ID, so a resend after a crash is the same message.
public struct DeactivationForwardKind: IntegrationKind {
    public static let name = "deactivation_forward"
    public static let requiredFields = MailIntegrationConfig.requiredFields
    public static var urlFields: [String] { [] }

    public static func validate(_ settings: IntegrationSettings) -> (field: String, message: String)? {
        MailKindSupport.validate(settings, needsPeriod: false)
    }

    public static func accepts(_ type: LifecycleEvent.EventType, hasAdminEmail: Bool) -> Bool { type == .deactivated }

    let settings: IntegrationSettings

    public init(settings: IntegrationSettings) {
        self.settings = settings
    }

    public func deliver(_ delivery: Delivery, http: DeliveryHTTP) async -> DeliveryOutcome {
        let config: MailIntegrationConfig
        switch MailIntegrationConfig.parse(settings.fields, needsPeriod: false) {
        case .success(let parsed): config = parsed
        case .failure(let problem): return .dead(status: nil, error: "integration \(settings.qualifiedID): \(problem)")
        }
        let details = Self.details(delivery)
        let message = DeactivationForwardMail.compose(details, from: config.from, to: config.to, deliveryID: delivery.id)
        return await MailKindSupport.send(message, config: config, settings: settings)
    }

    /// The deactivation as the mail tells it, from the lifecycle event's body (`site` is the
    /// sites row at that event).
    static func details(_ delivery: Delivery) -> DeactivationDetails {
        let body = delivery.body
        func site(_ column: String) -> String? {
            guard let text = body["site"]?[column]?.stringValue, !text.isEmpty else { return nil }
            return text
        }
        let occurred = body["occurred_at"]?.stringValue.flatMap(UTCTime.parseISO) ?? UTCTime.nowMicros()
        var details = DeactivationDetails(eventID: delivery.id, receivedAt: occurred, projectID: delivery.projectID,
                                          projectName: delivery.projectID)
        details.reasonID = body["reason_id"]?.stringValue
        details.reasonInfo = body["reason_info"]?.stringValue
        details.siteKey = site("site_key") ?? (delivery.siteKey.isEmpty ? nil : delivery.siteKey)
        details.url = site("url")
        details.siteName = site("site_name")
        details.adminEmail = site("admin_email")
        details.firstName = site("first_name")
        details.lastName = site("last_name")
        details.projectVersion = site("project_version")
        details.wordpressVersion = site("wp_version")
        details.phpVersion = site("php_version")
        return details
    }
}

/// What the email kinds share: registry checks and one send with its outcome.
enum MailKindSupport {
    static let logger = Logger(label: "trackhouse.mail")

    static func validate(_ settings: IntegrationSettings, needsPeriod: Bool) -> (field: String, message: String)? {
        if case .failure(let problem) = MailIntegrationConfig.parse(settings.fields, needsPeriod: needsPeriod) {
            return (problem.field, problem.message)
        }
        return nil
    }

    /// Sends `message`: delivered on the server's 250; `SMTPError.isTransient` failures are
    /// retried (backoff, 24 h window), the others are dead. A secret missing from the
    /// environment is retried, like the webhook's: fixing the environment and restarting
    /// resumes the queue.
    static func send(_ message: MailMessage, config: MailIntegrationConfig, settings: IntegrationSettings) async -> DeliveryOutcome {
        let smtp: SMTPSettings
        do { smtp = try config.smtpSettings(environment: ProcessInfo.processInfo.environment) } catch {
            return .retry(status: nil, error: "integration \(settings.qualifiedID): \(error)")
        }
        let client = SMTPClient(settings: smtp, logger: logger)
        do {
            let receipt = try await client.send(message.rendered(), from: config.from.address, to: config.to.map(\.address))
            return .delivered(status: receipt.reply.code)
        } catch let error as SMTPError {
            return error.isTransient
                ? .retry(status: error.reply?.code, error: "smtp: \(error)")
                : .dead(status: error.reply?.code, error: "smtp: \(error)")
        } catch {
            return .retry(status: nil, error: "smtp: \(error)")
        }
    }
}
