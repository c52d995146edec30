import Core
import Crypto
import Foundation

/// `webhook`: `POST url` with the lifecycle event as JSON, signed (CONTRACT §8):
/// `Trackhouse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` and
/// `Trackhouse-Delivery: <delivery id>`. Receivers dedupe on the delivery id.
/// Registry fields: `url`, `secret_env`.
public struct WebhookKind: IntegrationKind {
    public static let name = "webhook"
    public static let requiredFields = ["url", "secret_env"]
    public static func accepts(_ type: LifecycleEvent.EventType, hasAdminEmail: Bool) -> Bool { true }

    let settings: IntegrationSettings
    /// Seconds since 1970 for the signature (tests pin it).
    let clock: @Sendable () -> Int64

    public init(settings: IntegrationSettings) {
        self.init(settings: settings, clock: { Int64(Date().timeIntervalSince1970) })
    }

    init(settings: IntegrationSettings, clock: @escaping @Sendable () -> Int64) {
        self.settings = settings
        self.clock = clock
    }

    public func deliver(_ delivery: Delivery, http: DeliveryHTTP) async -> DeliveryOutcome {
        let secret: String
        do { secret = try settings.secret("secret_env") } catch {
            return .retry(status: nil, error: "\(error)")
        }
        let body = JSONWriter.serialize(delivery.body)
        let timestamp = clock()
        let headers = [("Content-Type", "application/json"), ("Trackhouse-Delivery", delivery.id),
                       ("Trackhouse-Signature", Self.signature(secret: secret, timestamp: timestamp, body: body))]
        switch await http.attempt("webhook", "POST", settings["url"]!, headers: headers, body: body) {
        case .success(let answer): return .from(answer, what: "webhook")
        case .failure(let error): return .retry(status: nil, error: error.message)
        }
    }

    /// `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
    public static func signature(secret: String, timestamp: Int64, body: [UInt8]) -> String {
        var message = Array("\(timestamp).".utf8)
        message.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8)))
        return "t=\(timestamp),v1=" + lowercaseHex(mac)
    }
}
