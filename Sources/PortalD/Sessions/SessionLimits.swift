import Firewall
import Foundation

/// What a session's tier allows beyond its rates (which the kernel enforces itself).
public struct SessionLimits: Sendable, Equatable {
    /// Bytes both ways together.
    public var quotaBytes: Int64?
    /// How long its counters may stand still.
    public var idle: Duration?

    public init(quotaBytes: Int64?, idle: Duration?) {
        self.quotaBytes = quotaBytes
        self.idle = idle
    }
}

/// A session's bytes as last seen, and since when they have stood at that.
struct SessionActivity: Sendable {
    var total: Int64
    var since: Date
}

extension SessionService {
    /// Ends, from one read of the kernel's counters, the sessions that have used up their
    /// tier's quota (reason `quota`, bytes both ways, those counted before a restart
    /// included) and those whose counters have not moved for their tier's idle timeout
    /// (reason `idle`). Idle time counts from when portald last saw the bytes move, or
    /// began to watch (a restart gives every session its timeout afresh). Housekeeping
    /// calls this every 10 s when some tier has a quota or an idle timeout; `limits` is by
    /// tier name. Returns the sessions it ended.
    @discardableResult
    public func enforceLimits(_ limits: [String: SessionLimits]) throws -> [Session] {
        guard !limits.isEmpty else { return [] }
        // Read and judged without the lock (a counters dump of thousands of devices takes a
        // while, and logins wait for the lock); only the ends are written under it.
        let at = now()
        let watched = try store.pool.read { db in try SessionRecords.active("tier IS NOT NULL AND expires_at > ?", [at], in: db) }
            .filter { $0.tier.flatMap { limits[$0] } != nil }
        guard !watched.isEmpty else {
            activity.withLock { $0 = [:] }
            return []
        }
        guard let counted = counters() else { return [] }  // a failed read is logged; nothing is ended on it
        var ending: [String: (reason: Session.EndReason, traffic: TrafficReading)] = [:]
        activity.withLock { seen in
            var next: [String: SessionActivity] = [:]
            for session in watched {
                let live = session.device.addresses.compactMap { counted[$0] }
                let total = live.reduce(session.bytesUp + session.bytesDown) { $0 + Int64(clamping: $1.bytesUp) + Int64(clamping: $1.bytesDown) }
                let limit = limits[session.tier!]!
                let reading = TrafficReading.combined(session.device.addresses.map { counted[$0].map(TrafficReading.counted) ?? .none })
                if let quota = limit.quotaBytes, total >= quota {
                    ending[session.id] = (.quota, reading)
                    continue
                }
                var activity = seen[session.id] ?? SessionActivity(total: total, since: at)
                if total != activity.total { activity = SessionActivity(total: total, since: at) }
                if let idle = limit.idle, at.timeIntervalSince(activity.since) >= TimeInterval(idle.components.seconds) {
                    ending[session.id] = (.idle, reading)
                    continue
                }
                next[session.id] = activity
            }
            seen = next
        }
        guard !ending.isEmpty else { return [] }
        return try changes.withLock { state in
            // Still the same sessions, still active: a login or a deauth may have come between.
            let ended = try store.pool.write { db in
                try SessionRecords.active(in: db).filter { ending[$0.id] != nil }.map { session in
                    try end(session, reason: ending[session.id]!.reason, at: at, traffic: ending[session.id]!.traffic, in: db)
                }
            }
            guard !ended.isEmpty else { return [] }
            try apply(&state, removing: ended.flatMap(\.keys), adding: [], "end \(ended.count) session(s) at their tier's limits")
            return ended
        }
    }
}
