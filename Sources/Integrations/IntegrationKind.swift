import Core
import Foundation

/// One kind of integration (`"kind"` in the registry): which fields it needs, which lifecycle
/// events it acts on, and how it delivers one. A kind is one file in `Kinds/` plus its line in
/// `IntegrationKinds.all` (the extension point; see the target README).
public protocol IntegrationKind: Sendable {
    /// The registry's `kind` value, e.g. `"webhook"`.
    static var name: String { get }
    /// Fields that must be non-empty strings in the registry entry.
    static var requiredFields: [String] { get }
    /// Fields that, when present, must be http(s) URLs.
    static var urlFields: [String] { get }
    /// Checks beyond the above; `(field, message)` when the entry is refused.
    static func validate(_ settings: IntegrationSettings) -> (field: String, message: String)?
    /// Whether a lifecycle event of this type (of a site with or without an admin email)
    /// becomes a delivery of this kind. Decided when the outbox entry is made.
    static func accepts(_ type: LifecycleEvent.EventType, hasAdminEmail: Bool) -> Bool

    init(settings: IntegrationSettings)
    /// Makes one attempt at `delivery`; never throws (every failure is an outcome).
    func deliver(_ delivery: Delivery, http: DeliveryHTTP) async -> DeliveryOutcome
}

extension IntegrationKind {
    public static var urlFields: [String] { ["url", "base_url"] }
    public static func validate(_ settings: IntegrationSettings) -> (field: String, message: String)? { nil }
}

/// The kinds this build knows. Add a kind here (and its file in `Kinds/`).
public enum IntegrationKinds {
    public static let all: [any IntegrationKind.Type] = [
        WebhookKind.self,
        MailchimpKind.self,
        MailerLiteKind.self,
        BrevoKind.self,
        EmailDigestKind.self,
        DeactivationForwardKind.self,
    ]

    /// A mailing list acts on activations and deactivations of sites whose admin has an
    /// email, never on skips (CONTRACT §8).
    public static func mailingListAccepts(_ type: LifecycleEvent.EventType, hasAdminEmail: Bool) -> Bool {
        hasAdminEmail && type != .skipped
    }
}

/// One outbox entry as a kind sees it.
public struct Delivery: Sendable {
    public var id: String
    public var type: String
    public var projectID: String
    public var siteKey: String
    /// The lifecycle event (`LifecycleEvent.body`): the webhook body.
    public var body: JSONValue
    public var attempt: Int

    public init(id: String, type: String, projectID: String, siteKey: String, body: JSONValue, attempt: Int) {
        self.id = id
        self.type = type
        self.projectID = projectID
        self.siteKey = siteKey
        self.body = body
        self.attempt = attempt
    }

    public var adminEmail: String? { LifecycleEvent.adminEmail(of: body) }
    public var site: JSONValue { body["site"] ?? .null }
    public func siteString(_ column: String) -> String { site[column]?.stringValue ?? "" }
}

/// What one attempt came to.
public enum DeliveryOutcome: Sendable, Equatable {
    /// 2xx (or nothing to do: `note` says why).
    case delivered(status: Int?, note: String? = nil)
    /// 408, 429, 5xx, a network error or a timeout: try again later (`retryAfterSeconds` from
    /// the answer's `Retry-After`, if any).
    case retry(status: Int?, error: String, retryAfterSeconds: Double? = nil)
    /// Any other answer: retrying would not help.
    case dead(status: Int?, error: String)

    /// The outcome of an HTTP answer by CONTRACT §8's rules.
    public static func from(_ answer: HTTPAnswer, what: String, nowMicros: Int64 = UTCTime.nowMicros()) -> DeliveryOutcome {
        let status = answer.status
        switch status {
        case 200..<300: return .delivered(status: status)
        case 408, 429, 500..<600:
            return .retry(status: status, error: "\(what): HTTP \(status)\(answer.errorSnippet)",
                          retryAfterSeconds: answer.retryAfterSeconds(nowMicros: nowMicros))
        case 300..<400:
            return .dead(status: status, error: "\(what): HTTP \(status) (redirects are not followed; configure the final URL)")
        default: return .dead(status: status, error: "\(what): HTTP \(status)\(answer.errorSnippet)")
        }
    }
}
