import Foundation
import GRDB
import Logging
import ServiceLifecycle

/// Delivers the outbox: one worker per endpoint, running beside the portal. It
/// only ever holds SQLite's write lock for the few statements that record an
/// attempt, so a guest's login never waits for a webhook.
///
/// `ordering = "ordered"` (default): one event at a time in creation order; an
/// event that keeps failing holds back later ones until it is delivered or dead.
/// `ordering = "none"`: up to `concurrency` events in flight, in any order.
final class Dispatcher: Service {
    let store: Store
    let outbox: Outbox
    let config: WebhooksConfig
    let client: WebhookHTTPClient
    let logger: Logger
    let now: @Sendable () -> Date

    init(store: Store, outbox: Outbox, config: WebhooksConfig, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.store = store
        self.outbox = outbox
        self.config = config
        self.client = WebhookHTTPClient(timeout: config.timeout)
        self.logger = logger
        self.now = now
    }

    func run() async throws {
        // On shutdown: abort transfers in flight (their events stay pending) and stop.
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown {
                await withTaskGroup(of: Void.self) { group in
                    for endpoint in self.config.endpoints where endpoint.status != .inactive {
                        group.addTask { await self.serve(endpoint) }
                    }
                    group.addTask { await self.purgeLoop() }
                }
            }
        } onGracefulShutdown: { [client] in
            client.close()
        }
    }

    /// A pending delivery with what is needed to send it.
    struct Due: Sendable {
        var record: DeliveryRecord
        var eventID: String
        var body: Data
    }

    private func serve(_ endpoint: WebhooksConfig.Endpoint) async {
        while !Task.isCancelled {
            let generation = outbox.wakeUp.generation
            let (due, nextDue): ([Due], Date?)
            do {
                (due, nextDue) = try fetch(endpoint)
            } catch {
                logger.error("outbox read failed", metadata: ["endpoint": "\(endpoint.id)", "error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            if due.isEmpty {
                let wait = nextDue.map { max(0.01, min(2, $0.timeIntervalSince(now()))) } ?? 2
                await outbox.wakeUp.wait(since: generation, timeout: .milliseconds(Int(wait * 1000)))
                continue
            }
            switch endpoint.ordering {
            case .ordered:
                for item in due {
                    guard !Task.isCancelled, await deliver(item, to: endpoint) else { break }
                }
            case .none:
                await withTaskGroup(of: Void.self) { group in
                    for item in due { group.addTask { _ = await self.deliver(item, to: endpoint) } }
                }
            }
        }
    }

    /// The deliveries to send now, and when the next one falls due.
    private func fetch(_ endpoint: WebhooksConfig.Endpoint) throws -> ([Due], Date?) {
        let at = now()
        return try store.pool.read { db in
            if try endpoint.status == .suspended || (Bool.fetchOne(db, sql: "SELECT 1 FROM endpoint_state WHERE endpoint_id = ? AND suspended_at IS NOT NULL", arguments: [endpoint.id]) ?? false) {
                return ([], at.addingTimeInterval(5))
            }
            let ordered = endpoint.ordering == .ordered
            let rows = try Row.fetchAll(db, sql: """
                SELECT d.*, e.id AS event_id, e.body FROM delivery d JOIN outbox_event e ON e.sequence = d.event_sequence
                WHERE d.endpoint_id = ? AND d.status = 'pending' \(ordered ? "" : "AND d.next_attempt_at <= ?")
                ORDER BY d.event_sequence LIMIT ?
                """, arguments: ordered ? [endpoint.id, 64] : [endpoint.id, at, config.concurrency])
            var due: [Due] = []
            for row in rows {
                let record = try DeliveryRecord(row: row)
                // In order: stop at the first event that is not due yet.
                if record.nextAttemptAt > at { return (due, due.isEmpty ? record.nextAttemptAt : nil) }
                due.append(Due(record: record, eventID: row["event_id"], body: row["body"]))
            }
            if due.isEmpty && !ordered {
                let next = try Date.fetchOne(db, sql: "SELECT MIN(next_attempt_at) FROM delivery WHERE endpoint_id = ? AND status = 'pending'", arguments: [endpoint.id])
                return ([], next)
            }
            return (due, nil)
        }
    }

    /// One attempt (and the fallback URL when the main one answers 4xx/5xx).
    /// Returns true when the event is settled (delivered or dead).
    @discardableResult
    func deliver(_ item: Due, to endpoint: WebhooksConfig.Endpoint) async -> Bool {
        let body = [UInt8](item.body)
        var log: [DeliveryAttemptRecord] = []
        func attempt(_ url: URL) async -> HTTPOutcome {
            let started = now()
            let outcome = await client.post(url, body: item.body, headers: WebhookSigner.headers(id: item.eventID, timestamp: started, body: body, secrets: endpoint.secrets))
            log.append(DeliveryAttemptRecord(id: nil, eventSequence: item.record.eventSequence, endpointID: endpoint.id, attemptedAt: started,
                                             url: url.absoluteString, statusCode: outcome.statusCode,
                                             latencyMs: Int(outcome.latency.components.seconds * 1000 + outcome.latency.components.attoseconds / 1_000_000_000_000_000),
                                             error: outcome.error))
            return outcome
        }
        let main = await attempt(endpoint.url)
        var verdict = RetryPolicy.verdict(main)
        if verdict != .delivered, let fallback = endpoint.fallbackURL, RetryPolicy.triesFallback(main) {
            if RetryPolicy.verdict(await attempt(fallback)) == .delivered { verdict = .delivered }
        }
        if client.isClosed && main.statusCode == nil { return false }  // shutting down: leave it pending, untouched

        var record = item.record
        record.attempts += 1
        record.updatedAt = now()
        record.lastError = verdict == .delivered ? nil : Self.describe(main)
        switch verdict {
        case .delivered:
            record.status = .delivered
        case .gone:
            record.nextAttemptAt = record.updatedAt  // goes first once the endpoint is resumed
        case .retry:
            if let next = RetryPolicy.nextAttempt(after: record.attempts, delays: config.retryDelays, retryAfter: main.retryAfter, now: record.updatedAt) {
                record.nextAttemptAt = next
            } else {
                record.status = .dead
                record.lastError = "gave up after \(record.attempts) attempts: \(record.lastError ?? "")"
            }
        case .permanent:
            record.status = .dead
        }
        let settled = record
        let entries = log
        let suspends = verdict == .gone
        do {
            try await store.pool.write { db in
                // Prepared once per connection: this runs after every attempt.
                let insert = try db.cachedStatement(sql: """
                    INSERT INTO delivery_attempt(event_sequence, endpoint_id, attempted_at, url, status_code, latency_ms, error)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
                for entry in entries {
                    try insert.execute(arguments: [entry.eventSequence, entry.endpointID, entry.attemptedAt, entry.url,
                                                   entry.statusCode, entry.latencyMs, entry.error])
                }
                try db.cachedStatement(sql: """
                    UPDATE delivery SET status = ?, attempts = ?, next_attempt_at = ?, last_error = ?, updated_at = ?
                    WHERE endpoint_id = ? AND event_sequence = ?
                    """).execute(arguments: [settled.status.rawValue, settled.attempts, settled.nextAttemptAt, settled.lastError,
                                             settled.updatedAt, settled.endpointID, settled.eventSequence])
                if suspends {
                    try db.execute(sql: """
                        INSERT INTO endpoint_state(endpoint_id, suspended_at, suspended_reason) VALUES (?, ?, ?)
                        ON CONFLICT(endpoint_id) DO UPDATE SET suspended_at = excluded.suspended_at, suspended_reason = excluded.suspended_reason
                        """, arguments: [endpoint.id, settled.updatedAt, "410 Gone from \(endpoint.url.absoluteString)"])
                }
            }
        } catch {
            logger.error("cannot record a delivery", metadata: ["event": "\(item.eventID)", "error": "\(error)"])
            return false
        }
        switch verdict {
        case .delivered:
            logger.debug("webhook delivered", metadata: ["event": "\(item.eventID)", "endpoint": "\(endpoint.id)"])
        case .gone:
            logger.warning("endpoint answered 410 Gone: suspended until `portald webhooks resume \(endpoint.id)`", metadata: ["endpoint": "\(endpoint.id)"])
        default:
            logger.warning("webhook attempt failed", metadata: ["event": "\(item.eventID)", "endpoint": "\(endpoint.id)",
                                                               "attempt": "\(settled.attempts)", "status": "\(settled.status.rawValue)", "error": "\(settled.lastError ?? "")"])
        }
        return settled.status != .pending
    }

    static func describe(_ outcome: HTTPOutcome) -> String {
        if let status = outcome.statusCode { return "HTTP \(status)" }
        return outcome.error ?? "no answer"
    }

    /// Drops the delivery log and settled events older than `log_retention_days`.
    private func purgeLoop() async {
        while !Task.isCancelled {
            do {
                try purge()
            } catch {
                logger.error("outbox purge failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(600))
        }
    }

    func purge() throws {
        let cutoff = now().addingTimeInterval(-Double(config.logRetentionDays) * 86_400)
        try store.pool.write { db in
            try db.execute(sql: "DELETE FROM delivery_attempt WHERE attempted_at < ?", arguments: [cutoff])
            try db.execute(sql: """
                DELETE FROM outbox_event WHERE created_at < ?
                AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.event_sequence = outbox_event.sequence AND d.status != 'delivered')
                """, arguments: [cutoff])
        }
    }
}
