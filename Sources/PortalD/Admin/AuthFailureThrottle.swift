import Foundation
import Logging
import Synchronization

/// Failed admin authentications per source address: after `limit` failures within
/// `window`, the address is answered 429 (token unchecked) until the window ends.
/// Guessing at 10 000 tokens a second becomes 10 a minute, and every failure is logged
/// (the ones refused while blocked are counted into one line per window instead).
final class AuthFailureThrottle: Sendable {
    let limit: Int
    let window: Duration
    private let logger: Logger
    private struct Record { var started: ContinuousClock.Instant; var failures: Int; var refused: Int }
    private let records = Mutex<[String: Record]>([:])

    init(limit: Int = 10, window: Duration = .seconds(60), logger: Logger) {
        self.limit = limit
        self.window = window
        self.logger = logger
    }

    /// How long `address` must wait, or nil when it may try.
    func retryAfter(_ address: String, now: ContinuousClock.Instant = .now) -> Duration? {
        var refusedInEndedWindow = 0
        let wait: Duration? = records.withLock { records in
            guard var record = records[address] else { return nil }
            let ends = record.started + window
            if now >= ends {
                refusedInEndedWindow = record.refused
                records[address] = nil
                return nil
            }
            guard record.failures >= limit else { return nil }
            record.refused += 1
            records[address] = record
            return ends - now
        }
        // Logged outside the lock: a slow log sink must not hold up every admin request.
        if refusedInEndedWindow > 0 {
            logger.warning("admin API: refused further attempts from an address over the failure limit",
                           metadata: ["address": "\(address)", "refused": "\(refusedInEndedWindow)"])
        }
        return wait
    }

    /// Counts a failed authentication from `address` and logs it.
    func failed(_ address: String, reason: String, now: ContinuousClock.Instant = .now) {
        let failures = records.withLock { records in
            if records.count > 10_000 { records = records.filter { now < $0.value.started + window } }
            var record = records[address] ?? Record(started: now, failures: 0, refused: 0)
            record.failures += 1
            records[address] = record
            return record.failures
        }
        logger.warning("admin API: authentication failed", metadata: [
            "address": "\(address)", "reason": "\(reason)", "failures_in_window": "\(failures)"])
        if failures == limit {
            logger.error("admin API: \(limit) failed authentications from one address; refusing it with 429 for \(window)",
                         metadata: ["address": "\(address)"])
        }
    }
}
