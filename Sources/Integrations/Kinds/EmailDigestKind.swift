import Core
import Mail

/// `email_digest`: a project's digest (new sites, deactivations with their top reasons, active
/// sites, PHP and WordPress version shares) mailed once per `period` (daily, weekly or
/// monthly, UTC boundaries, weeks from Monday), HTML with inline bar charts and plain text.
/// Same SMTP fields as `deactivation_forward`, plus `period`.
///
/// It takes no lifecycle event: Server's `DigestScheduler` adds one outbox entry per closed
/// period, with the figures computed by the dashboard's chart queries as its body and the
/// delivery id `digest:<project>:<integration>:<period start>` (a second add of the id is
/// ignored, so a restart never sends a period twice, and every closed period since `since` is
/// added, so none is skipped). This kind renders that body and sends it.
public struct EmailDigestKind: IntegrationKind {
    public static let name = "email_digest"
    public static let requiredFields = MailIntegrationConfig.requiredFields + ["period"]
    public static var urlFields: [String] { [] }
    /// The outbox entry's `type`.
    public static let entryType = "email.digest"

    public static func validate(_ settings: IntegrationSettings) -> (field: String, message: String)? {
        MailSender.validate(settings, needsPeriod: true)
    }

    public static func accepts(_ type: LifecycleEvent.EventType, hasAdminEmail: Bool) -> Bool { false }

    /// The delivery id of one period's digest.
    public static func deliveryID(projectID: String, integrationID: String, period: DigestPeriod) -> String {
        "digest:\(projectID):\(integrationID):\(UTCTime.formatISO(micros: period.start))"
    }

    let mail: MailSender

    public init(settings: IntegrationSettings) {
        mail = MailSender(settings: settings, needsPeriod: true)
    }

    public func deliver(_ delivery: Delivery, http: DeliveryHTTP) async -> DeliveryOutcome {
        guard let figures = DigestFigures(json: delivery.body) else {
            return .dead(status: nil, error: "the outbox entry does not hold digest figures")
        }
        return await mail.send { DigestMail.compose(figures, from: $0, to: $1, deliveryID: delivery.id) }
    }
}
