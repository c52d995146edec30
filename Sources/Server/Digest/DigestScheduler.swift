import Core
import Ingest
import Integrations
import Logging
import Mail
import Query

/// Puts each `email_digest` integration's digests into its outbox, one entry per closed period:
/// 1. For every `email_digest` integration of the catalog, the periods of its `period` that
///    ended at least `settleSeconds` ago (so compaction has committed the period's events) and
///    that end after its `since` are listed, oldest first (`DigestPeriod.closed`).
/// 2. A period whose delivery id (`digest:<project>:<integration>:<period start>`) the outbox
///    already holds, in any state, is skipped: a restart never adds a period twice.
/// 3. Otherwise its figures are computed now by the dashboard's chart queries
///    (`DigestFiguresQuery`) and added as the entry's body, durably, before the next period is
///    looked at; a failure stops this integration's pass and the next pass starts again at
///    step 1, so no period is skipped.
/// The worker then delivers the entries like any other (`EmailDigestKind`).
public final class DigestScheduler: Sendable {
    let outboxes: OutboxStore
    let figures: DigestFiguresQuery
    let registry: RegistryStore
    let settleMicros: Int64
    let logger: Logger
    /// At most this many periods per integration and pass (a `since` years back catches up
    /// over several passes, oldest first).
    static let periodsPerPassMax = 62

    public init(outboxes: OutboxStore, figures: DigestFiguresQuery, registry: RegistryStore, settleSeconds: Double = 300, logger: Logger) {
        self.outboxes = outboxes
        self.figures = figures
        self.registry = registry
        self.settleMicros = Int64(settleSeconds * 1e6)
        self.logger = logger
    }

    /// One pass; returns how many digests were added.
    @discardableResult
    public func step(catalog: IntegrationCatalog, nowMicros: Int64 = UTCTime.nowMicros()) -> Int {
        var added = 0
        for integration in catalog.all where integration.kind == EmailDigestKind.name {
            guard case .success(let config) = MailIntegrationConfig.parse(integration.fields, needsPeriod: true),
                  let frequency = config.period else { continue }
            let log = outboxes.log(projectID: integration.projectID, integrationID: integration.id)
            let name = registry.registry.project(id: integration.projectID)?.name ?? integration.projectID
            let periods = DigestPeriod.closed(since: integration.sinceMicros, now: nowMicros - settleMicros, frequency: frequency)
            do { try log.refresh() } catch {
                logger.error("integrations: reading the outbox failed", metadata: ["integration": "\(integration.qualifiedID)", "error": "\(error)"])
                continue
            }
            var count = 0
            for period in periods where count < Self.periodsPerPassMax {
                let id = EmailDigestKind.deliveryID(projectID: integration.projectID, integrationID: integration.id, period: period)
                do {
                    // Held, or compacted away after it was sent (at or below the outbox's floor).
                    if log.isKnownOrForgotten(id, occurredAtMicros: period.end) { continue }
                    let computed = try figures.figures(projectID: integration.projectID, projectName: name, period: period)
                    guard case .object(let body) = computed.json else { continue }
                    added += try log.add(entries: [OutboxLog.NewEntry(id: id, siteKey: "", type: EmailDigestKind.entryType,
                                                                      occurredAtMicros: period.end, body: body)], belowFloor: .skip)
                    count += 1
                } catch {
                    logger.error("integrations: adding a digest failed", metadata: [
                        "integration": "\(integration.qualifiedID)", "period": "\(period)", "error": "\(error)"])
                    break
                }
            }
        }
        return added
    }
}
