import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Store

/// Delivers the outbox: one worker per endpoint, running beside the portal. Every
/// database access is GRDB's async API and every HTTP attempt goes through the
/// transport, so no cooperative thread ever blocks; the write lock is held only for
/// the few statements that record an attempt, so a guest's login never waits for
/// a webhook.
///
/// `ordering = "ordered"` (default): one event at a time in creation order; an
/// event that keeps failing holds back later ones until it is delivered or dead.
/// `ordering = "none"`: up to `concurrency` deliveries in flight; as each one
/// settles the next due event starts, so a slow receiver answer holds back nothing.
public final class Dispatcher: Service {
    let store: Store
    let outbox: Outbox
    let settings: DeliverySettings
    let transport: any WebhookTransport
    let logger: Logger
    let now: @Sendable () -> Date
    let observer: (any DeliveryObserver)?
    public let liveness = DispatcherLiveness()

    public init(store: Store, outbox: Outbox, settings: DeliverySettings, transport: any WebhookTransport = CurlTransport(),
                logger: Logger, observer: (any DeliveryObserver)? = nil, now: @escaping @Sendable () -> Date = Date.init) {
        self.observer = observer
        self.store = store
        self.outbox = outbox
        self.settings = settings
        self.transport = transport
        self.logger = logger
        self.now = now
    }

    public func run() async throws {
        // On shutdown: abort transfers in flight (their events stay pending) and stop.
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown {
                await self.superviseEndpoints()
            }
        } onGracefulShutdown: { [transport] in
            // `close` waits for the transfer thread to end: not on a cooperative thread.
            Thread.detachNewThread { transport.close() }
        }
    }

    /// One delivery loop per endpoint that is not inactive, started and ended as the
    /// registry changes (endpoints made, changed or deleted through the API).
    private func superviseEndpoints() async {
        let watcher = "", purger: String? = nil
        await withTaskGroup(of: String?.self) { group in
            group.addTask { await self.purgeLoop(); return purger }
            var running = Set<String>()
            // Endpoints that have had a loop: when one leaves the registry and its loop has
            // ended (at once, or long after it was made inactive), the observer forgets it.
            var served = Set<String>()
            var watching = false
            while !Task.isCancelled {
                let generation = outbox.registry.changed.generation
                let endpoints = outbox.endpoints
                for endpoint in endpoints where endpoint.status != .inactive && !running.contains(endpoint.id) {
                    running.insert(endpoint.id)
                    served.insert(endpoint.id)
                    group.addTask { await self.serve(endpoint.id); return endpoint.id }
                }
                for id in served.subtracting(endpoints.map(\.id)).subtracting(running) {
                    served.remove(id)
                    observer?.forget(endpoint: id)
                }
                if !watching {
                    watching = true
                    group.addTask { await self.outbox.registry.changed.wait(since: generation, timeout: .seconds(60)); return watcher }
                }
                guard let finished = await group.next() else { break }
                switch finished {
                case watcher?: watching = false
                case let id?: running.remove(id)
                case nil: break
                }
            }
            group.cancelAll()
        }
    }

    /// The endpoint as the registry has it now; nil once deleted or made inactive (its loop ends).
    private func current(_ id: String) -> WebhookEndpoint? {
        outbox.registry.endpoint(id).flatMap { $0.status == .inactive ? nil : $0 }
    }

    private func serve(_ id: String) async {
        liveness.beat(id)  // from its start, not from the dispatcher's creation
        switch current(id)?.ordering {
        case .ordered?: await serveInOrder(id)
        case .none?: await serveConcurrently(id)
        case nil: return
        }
    }

    /// The endpoints whose delivery loop is stuck: not come round for two delivery
    /// timeouts (an attempt and its fallback) plus a minute. Empty while all is well.
    public var stalledEndpoints: [String] {
        liveness.stalled(expected: outbox.endpoints.filter { $0.status != .inactive }.map(\.id),
                         allowance: settings.timeout * 2 + .seconds(60))
    }

    /// A pending delivery with what is needed to send it.
    public struct Due: Sendable {
        var record: DeliveryRecord
        var eventID: String
        var body: Data
        var sequence: Int64 { record.eventSequence }
    }

    /// What to send now, or else when to look again.
    struct Batch: Sendable {
        var due: [Due] = []
        var nextDue: Date?
    }

    /// Each loop ends when its endpoint's ordering changes (a reload, the API): the
    /// supervisor then starts the other kind.
    private func serveInOrder(_ id: String) async {
        while !Task.isCancelled, let endpoint = current(id), endpoint.ordering == .ordered {
            liveness.beat(endpoint.id)
            let generation = outbox.wakeUp.generation
            guard let batch = await fetch(endpoint, excluding: [], limit: 64) else { continue }
            if batch.due.isEmpty {
                await outbox.wakeUp.wait(since: generation, timeout: pause(until: batch.nextDue))
                continue
            }
            for item in batch.due {
                // Re-read per event: a url, secret or status changed (or a delete) applies to the next one.
                guard !Task.isCancelled, let endpoint = current(id), await deliver(item, to: endpoint) else { break }
                liveness.beat(endpoint.id)
            }
        }
    }

    /// A sliding window of `concurrency` deliveries: each settled one makes room for
    /// the next due event at once. A waiter child wakes the loop on new events.
    private func serveConcurrently(_ id: String) async {
        let waiterID: Int64 = -1
        await withTaskGroup(of: Int64.self) { group in
            var inFlight = Set<Int64>()
            var waiting = false
            while !Task.isCancelled, let endpoint = current(id), endpoint.ordering == .none {
                liveness.beat(endpoint.id)
                let generation = outbox.wakeUp.generation
                var nextDue: Date?
                let room = settings.concurrency - inFlight.count
                if room > 0, let batch = await fetch(endpoint, excluding: inFlight, limit: room) {
                    for item in batch.due {
                        inFlight.insert(item.sequence)
                        group.addTask { _ = await self.deliver(item, to: endpoint); return item.sequence }
                    }
                    nextDue = batch.nextDue
                }
                if !waiting {
                    waiting = true
                    let timeout = pause(until: nextDue)
                    group.addTask { await self.outbox.wakeUp.wait(since: generation, timeout: timeout); return waiterID }
                }
                guard let settled = await group.next() else { continue }
                if settled == waiterID { waiting = false } else { inFlight.remove(settled) }
            }
            // Made inactive or deleted: deliveries already sent finish and are recorded (on
            // shutdown the group is cancelled with its parent anyway).
            await group.waitForAll()
        }
    }

    /// How long a delivery whose outcome could not be written waits before it is sent again.
    static let recordFailurePause: Duration = .seconds(5)

    /// How long to sleep before looking again: until the next retry falls due, at most 2 s.
    private func pause(until next: Date?) -> Duration {
        let seconds = next.map { max(0.01, min(2, $0.timeIntervalSince(now()))) } ?? 2
        return .milliseconds(Int(seconds * 1000))
    }

    /// The deliveries to send now (not those in flight), and when the next one falls
    /// due; nil after a read error (logged, and paced).
    private func fetch(_ endpoint: WebhookEndpoint, excluding inFlight: Set<Int64>, limit: Int) async -> Batch? {
        let at = now()
        let ordered = endpoint.ordering == .ordered
        do {
            return try await store.pool.read { db in
                if try endpoint.status == .suspended || (Bool.fetchOne(db, sql: "SELECT 1 FROM endpoint_state WHERE endpoint_id = ? AND suspended_at IS NOT NULL", arguments: [endpoint.id]) ?? false) {
                    return Batch(nextDue: at.addingTimeInterval(5))
                }
                let skip = inFlight.isEmpty ? "" : "AND d.event_sequence NOT IN (\(inFlight.map { _ in "?" }.joined(separator: ",")))"
                var arguments: StatementArguments = [endpoint.id]
                arguments += StatementArguments(Array(inFlight))
                if !ordered { arguments += [at] }
                arguments += [limit]
                let rows = try Row.fetchAll(db, sql: """
                    SELECT d.*, e.id AS event_id, e.body FROM delivery d JOIN outbox_event e ON e.sequence = d.event_sequence
                    WHERE d.endpoint_id = ? AND d.status = 'pending' \(skip) \(ordered ? "" : "AND d.next_attempt_at <= ?")
                    ORDER BY d.event_sequence LIMIT ?
                    """, arguments: arguments)
                var batch = Batch()
                for row in rows {
                    let record = try DeliveryRecord(row: row)
                    // In order: stop at the first event that is not due yet.
                    if record.nextAttemptAt > at { return Batch(due: batch.due, nextDue: batch.due.isEmpty ? record.nextAttemptAt : nil) }
                    batch.due.append(Due(record: record, eventID: row["event_id"], body: row["body"]))
                }
                if batch.due.isEmpty && !ordered {
                    var next: StatementArguments = [endpoint.id]
                    next += StatementArguments(Array(inFlight))
                    batch.nextDue = try Date.fetchOne(db, sql: """
                        SELECT MIN(next_attempt_at) FROM delivery d WHERE endpoint_id = ? AND status = 'pending' \(skip)
                        """, arguments: next)
                }
                return batch
            }
        } catch is CancellationError {
            return nil  // shutting down
        } catch {
            logger.error("outbox read failed", metadata: ["endpoint": "\(endpoint.id)", "error": "\(error)"])
            try? await Task.sleep(for: .seconds(1))
            return nil
        }
    }

    /// One attempt (and the fallback URL when the main one answers 4xx/5xx).
    /// Returns true when the event is settled (delivered or dead).
    @discardableResult
    public func deliver(_ item: Due, to endpoint: WebhookEndpoint) async -> Bool {
        // The stored envelope, or the same event as a CloudEvent: derived the same way on
        // every attempt, so every retry sends the same bytes.
        let cloudEvents = endpoint.contentType == .cloudEvents
        let body = cloudEvents ? CloudEvent.structured(fromEnvelope: [UInt8](item.body)) : [UInt8](item.body)
        let sent = cloudEvents ? Data(body) : item.body
        let contentType = cloudEvents ? CloudEvent.contentType : "application/json"
        var log: [DeliveryAttemptRecord] = []
        func attempt(_ url: URL) async -> HTTPOutcome {
            let started = now()
            let headers = WebhookSigner.headers(id: item.eventID, timestamp: started, body: body, secrets: endpoint.secrets,
                                                userAgent: settings.userAgent, contentType: contentType)
            let outcome = await transport.post(url, body: sent, headers: headers, timeout: settings.timeout)
            if !(transport.isClosed && outcome.statusCode == nil) {  // not an attempt aborted by shutdown
                observer?.attempted(endpoint: endpoint.id, outcome: DeliveryOutcome(outcome), latency: outcome.latency)
            }
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
        if transport.isClosed && main.statusCode == nil { return false }  // shutting down: leave it pending, untouched

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
            if let next = RetryPolicy.nextAttempt(after: record.attempts, delays: settings.retryDelays, retryAfter: main.retryAfter, now: record.updatedAt) {
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
                    WHERE endpoint_id = ? AND event_sequence = ? AND status = 'pending'
                    """).execute(arguments: [settled.status.rawValue, settled.attempts, settled.nextAttemptAt, settled.lastError,
                                             settled.updatedAt, settled.endpointID, settled.eventSequence])
                if suspends {
                    try db.execute(sql: """
                        INSERT INTO endpoint_state(endpoint_id, suspended_at, suspended_reason) VALUES (?, ?, ?)
                        ON CONFLICT(endpoint_id) DO UPDATE SET suspended_at = excluded.suspended_at, suspended_reason = excluded.suspended_reason
                        """, arguments: [endpoint.id, settled.updatedAt, "410 Gone from \(endpoint.url.absoluteString)"])
                }
            }
        } catch is CancellationError {
            return false  // shutting down: the event stays pending and goes again (same id) after restart
        } catch {
            // The attempt happened but is not on record, so the event is due again. Pause
            // before it is fetched (it counts as in flight until then): a disk that stays
            // full must not turn into a loop of POSTs.
            logger.error("cannot record a delivery", metadata: ["event": "\(item.eventID)", "error": "\(error)"])
            try? await Task.sleep(for: Self.recordFailurePause)
            return false
        }
        if settled.status != .pending { observer?.settled(endpoint: endpoint.id, status: settled.status) }
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
                try await purge()
            } catch {
                logger.error("outbox purge failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(600))
        }
    }

    public func purge() async throws {
        let cutoff = now().addingTimeInterval(-Double(settings.logRetentionDays) * 86_400)
        try await store.pool.write { db in
            try db.execute(sql: "DELETE FROM delivery_attempt WHERE attempted_at < ?", arguments: [cutoff])
            try db.execute(sql: """
                DELETE FROM outbox_event WHERE created_at < ?
                AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.event_sequence = outbox_event.sequence AND d.status != 'delivered')
                """, arguments: [cutoff])
        }
    }
}
