import Core
import Foundation
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
        MailSender.validate(settings, needsPeriod: false)
    }

    public static func accepts(_ type: LifecycleEvent.EventType, hasAdminEmail: Bool) -> Bool { type == .deactivated }

    let mail: MailSender

    public init(settings: IntegrationSettings) {
        mail = MailSender(settings: settings, needsPeriod: false)
    }

    public func deliver(_ delivery: Delivery, http: DeliveryHTTP) async -> DeliveryOutcome {
        let details = Self.details(delivery)
        return await mail.send { DeactivationForwardMail.compose(details, from: $0, to: $1, deliveryID: delivery.id) }
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
