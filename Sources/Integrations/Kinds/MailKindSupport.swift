import Foundation
import Logging
import Mail

/// What the email kinds (`email_digest`, `deactivation_forward`) share: the registry's SMTP
/// fields parsed once, when the integration is made (the worker keeps one kind value per
/// integration, so a delivery never re-parses them); the registry check; one send and its
/// outcome.
struct MailSender: Sendable {
    static let logger = Logger(label: "trackhouse.mail")

    let settings: IntegrationSettings
    /// The parsed fields, or the refused field (an entry the registry check let through can
    /// only fail here if the kind and the check disagree: dead, naming the field).
    let config: Result<MailIntegrationConfig, MailIntegrationConfig.Problem>

    init(settings: IntegrationSettings, needsPeriod: Bool) {
        self.settings = settings
        self.config = MailIntegrationConfig.parse(settings.fields, needsPeriod: needsPeriod)
    }

    /// The registry check: the refused field and how to fix it.
    static func validate(_ settings: IntegrationSettings, needsPeriod: Bool) -> (field: String, message: String)? {
        if case .failure(let problem) = MailIntegrationConfig.parse(settings.fields, needsPeriod: needsPeriod) {
            return (problem.field, problem.message)
        }
        return nil
    }

    /// Composes the message for the configured sender and recipients and sends it: delivered
    /// on the server's 250; `SMTPError.isTransient` failures are retried (backoff, 24 h
    /// window), the others are dead. A secret missing from the environment is retried, like
    /// the webhook's: fixing the environment and restarting resumes the queue.
    func send(_ compose: (_ from: MailAddress, _ to: [MailAddress]) -> MailMessage) async -> DeliveryOutcome {
        let config: MailIntegrationConfig
        switch self.config {
        case .success(let parsed): config = parsed
        case .failure(let problem): return .dead(status: nil, error: "integration \(settings.qualifiedID): \(problem)")
        }
        let message = compose(config.from, config.to)
        let smtp: SMTPSettings
        do { smtp = try config.smtpSettings(environment: ProcessInfo.processInfo.environment) } catch {
            return .retry(status: nil, error: "integration \(settings.qualifiedID): \(error)")
        }
        let client = SMTPClient(settings: smtp, logger: Self.logger)
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
