import Firewall
import Foundation
import GRDB
import HTTPServer
import Logging
import Outbox
import Store
import Synchronization

public struct SessionError: Error, CustomStringConvertible, Sendable, HTTPErrorConvertible {
    public enum Kind: Sendable { case notFound, firewall, store, limitReached, blocked, invalid, mismatch }
    public let kind: Kind
    public let description: String

    public var httpError: HTTPError {
        switch kind {
        case .notFound: .notFound(description)
        case .firewall: .serviceUnavailable("firewall_error", description)
        case .store: HTTPError(500, code: "store_error", message: description)
        case .limitReached: HTTPError(409, code: "device_limit", message: description)
        case .blocked: HTTPError(409, code: "device_blocked", message: description)
        case .invalid: .badRequest("invalid_request", description)
        case .mismatch: HTTPError(409, code: "rule_mismatch", message: description)
        }
    }
}

/// Sessions and the authorized set, kept in step: SQLite is the desired state and
/// the kernel follows it. Every change commits first, then is applied to the
/// kernel in one netlink transaction (a login that only adds a device has its
/// element applied while its commit syncs, and taken back if the commit fails);
/// when an apply fails, or someone edits the table behind portald's back, the
/// reconciler puts the kernel back in line.
public final class SessionService: Sendable {
    let store: Store
    let firewall: any Firewall
    let outbox: Outbox
    let sessionLength: Duration
    let logger: Logger
    let now: @Sendable () -> Date
    /// Logins, firewall applies and repairs, for `/metrics`.
    let metrics: PortalMetrics

    /// Held from a change's commit to its apply, and by the reconciler: applies reach
    /// the kernel in commit order, and a reconciliation never sees a commit whose
    /// apply is still on its way. SQLite's own write lock is not held across netlink.
    let changes = Mutex(ChangeState())

    struct ChangeState {
        /// An apply or a reconciliation failed: reconcile at the next chance.
        var needsReconcile = false
        var lastReconcile: ContinuousClock.Instant?
        /// The last full read-back.
        var lastReadBack: ContinuousClock.Instant?
        /// When the install wrote every element's timeout, by both clocks: once the wall
        /// clock has jumped since, the kernel's timeouts and the sessions' ends disagree (a
        /// read-back does not rewrite timeouts), so every reconcile reads back, as before
        /// generations were used.
        var timeoutsWritten: (monotonic: ContinuousClock.Instant, wall: Date)?
        /// For `portald firewall show`: the last reconciliation, and the last one that changed something.
        var lastReport: ReconcileRecord?
        var lastRepair: ReconcileRecord?

        /// After a whole install (at start, or a reload's new tiers): the kernel holds exactly
        /// `desired`, each with its timeout written now.
        mutating func installed(_ desired: [AuthorizedDevice], cause: String, at date: Date, started: ContinuousClock.Instant) {
            needsReconcile = false
            lastReconcile = .now
            lastReadBack = .now
            timeoutsWritten = (.now, date)
            let record = ReconcileRecord(at: date, cause: cause, repair: Repair(reinstalled: true, added: desired.map(\.key)),
                                         duration: ContinuousClock.now - started)
            lastReport = record
            lastRepair = record
        }
    }

    /// A reconciliation (or the install at start) as `portald firewall show` tells it.
    public struct ReconcileRecord: Sendable, Equatable {
        public var at: Date
        public var cause: String
        public var repair: Repair
        /// How long it took: reading the kernel's sets back and repairing them (or installing the table).
        public var duration: Duration
        /// Whether the sets were read back; false: the kernel's generation showed nothing
        /// but portald's own commits since the last read-back, so there was nothing to read.
        public var readBack = true
    }

    /// How long the reconciler may trust the kernel's generation before it reads every
    /// set back anyway: elements also leave by their timeouts, which no generation counts.
    static let readBackInterval: Duration = .seconds(300)

    /// The last reconciliation, and the last one that changed the kernel.
    public func reconcileRecords() -> (last: ReconcileRecord?, lastRepair: ReconcileRecord?) {
        changes.withLock { ($0.lastReport, $0.lastRepair) }
    }

    /// The tier a login gets unless it names one (`[portal] tier`).
    var defaultTier: String? { defaultTierSetting.withLock { $0 } }
    let defaultTierSetting: Mutex<String?>
    /// For `enforceLimits`: each watched session's bytes and since when they stand still.
    let activity = Mutex<[String: SessionActivity]>([:])

    public init(store: Store, firewall: any Firewall, outbox: Outbox = Outbox(siteID: "", endpoints: []), sessionMinutes: Int,
                defaultTier: String? = nil, metrics: PortalMetrics = PortalMetrics(), logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.metrics = metrics
        self.defaultTierSetting = Mutex(defaultTier)
        self.store = store
        self.firewall = firewall
        self.outbox = outbox
        self.sessionLength = .seconds(sessionMinutes * 60)
        self.logger = logger
        self.now = now
    }

    /// Ends the device's active session and removes it from the set.
    @discardableResult
    public func deauthorize(mac: MACAddress, reason: Session.EndReason = .deauthorized) throws -> Session {
        try changes.withLock { state in
            let at = now()
            guard let session = try store.pool.read({ db in try SessionRecords.active("mac = ?", [mac.description], in: db).first }) else {
                throw SessionError(kind: .notFound, description: "no active session for \(mac)")
            }
            let traffic = TrafficReading.combined(session.device.addresses.map { counters(of: $0) })
            let ended = try store.pool.write { db in try end(session, reason: reason, at: at, traffic: traffic, in: db) }
            try apply(&state, removing: ended.keys, adding: [], "deauthorize \(mac)")
            return ended
        }
    }

    /// Ends the sessions whose time is up. The kernel drops their elements by
    /// itself; removing them here as well keeps the set exact if clocks disagree.
    @discardableResult
    public func expireDue() throws -> [Session] {
        try changes.withLock { state in
            let at = now()
            let due = try store.pool.read { db in try SessionRecords.active("expires_at <= ?", [at], in: db) }
            guard !due.isEmpty else { return [] }
            let traffic = counters()  // one dump for the whole batch
            let ended = try store.pool.write { db in
                try due.map { session in
                    // A failed dump leaves every session's last bytes unknown, not zero.
                    let reading = traffic.map { all in TrafficReading.combined(session.device.addresses.map { all[$0].map(TrafficReading.counted) ?? .none }) } ?? .failed
                    return try end(session, reason: .expired, at: at, traffic: reading, in: db)
                }
            }
            try apply(&state, removing: ended.flatMap(\.keys), adding: [], "expire \(ended.count) session(s)")
            return ended
        }
    }

    /// Installs the capture with every still-valid session already let through: a
    /// restart loses no authorized guest. A table left by a previous run (a crash) is
    /// compared with the sessions first, and what differed is logged.
    public func restore() throws -> Int {
        try expireDue()
        return try changes.withLock { state in
            let started = ContinuousClock.now
            let desired = try desiredDevices()
            if let previous = try? firewall.state() {
                let wanted = Set(desired.map(\.key))
                logger.info("firewall table from a previous run", metadata: [
                    "elements": "\(previous.authorized.count)", "sessions": "\(Set(desired.map(\.mac)).count)",
                    "missing": "\(wanted.subtracting(previous.authorized).count)", "without_session": "\(previous.authorized.subtracting(wanted).count)"])
            }
            do {
                try preservingTrafficLocked { try firewall.install(devices: desired) }
                metrics.firewallApplied(.install, duration: .now - started, failed: false)
            } catch {
                metrics.firewallApplied(.install, duration: .now - started, failed: true)
                throw error
            }
            state.installed(desired, cause: "start", at: now(), started: started)
            return Set(desired.map(\.mac)).count  // sessions, not addresses
        }
    }

    /// Compares the kernel with the live sessions and repairs both ways, when the
    /// last reconciliation is older than `interval` or a failure asked for one.
    /// Returns nil when it was not due.
    @discardableResult
    public func reconcile(ifOlderThan interval: Duration = .zero) throws -> Repair? {
        try changes.withLock { state in
            if !state.needsReconcile, let last = state.lastReconcile, ContinuousClock.now - last < interval { return nil }
            return try reconcile(&state, because: state.needsReconcile ? "an earlier failure" : "the timer", timer: true)
        }
    }

    /// Runs `change`, which replaces or removes the table (and so its counters),
    /// after reading the counters, and adds them to the active sessions once it
    /// succeeded: bytes survive restarts and crashes, and are never counted twice.
    public func preservingTraffic(_ change: () throws -> Void) throws {
        try changes.withLock { _ in try preservingTrafficLocked(change) }
    }

    public func activeSessions() throws -> [Session] {
        try store.pool.read { db in try SessionRecords.active(in: db) }
    }

    public func activeSession(mac: MACAddress) throws -> Session? {
        try store.pool.read { db in try SessionRecords.active("mac = ?", [mac.description], in: db).first }
    }

    public func sessions(of subject: SessionSubject) throws -> [Session] {
        try store.pool.read { db in try SessionRecords.all(of: subject, in: db) }
    }

    public func session(id: String) throws -> Session? {
        try store.pool.read { db in try SessionRecords.one(id: id, in: db) }
    }

    // MARK: Applying to the kernel (callers hold `changes`)

    /// Applies a committed change. When the kernel refuses, the reconciler runs at
    /// once; the caller fails only if that cannot repair it either (and it is tried
    /// again on the next tick, so the committed state still reaches the kernel).
    func apply(_ state: inout ChangeState, removing: [DeviceKey], adding: [AuthorizedDevice], _ what: String) throws {
        let started = ContinuousClock.now
        do {
            try firewall.update(removing: removing, adding: adding)
            metrics.firewallApplied(.update, duration: .now - started, failed: false)
        } catch {
            metrics.firewallApplied(.update, duration: .now - started, failed: true)
            try recover(&state, from: error, what)
        }
    }

    /// After the kernel refused a committed change: the reconciler puts it in line now.
    func recover(_ state: inout ChangeState, from error: any Error, _ what: String) throws {
        logger.error("firewall apply failed; reconciling", metadata: ["change": "\(what)", "error": "\(error)"])
        do {
            try reconcile(&state, because: "a failed apply")
        } catch {
            throw SessionError(kind: .firewall, description: "could not \(what): \(error)")
        }
    }

    /// Reads the kernel back and repairs it, unless (`timer`, nothing failed) its generation
    /// shows nothing but portald's own commits since the last read-back, which was recent
    /// and with no wall-clock jump since: then the kernel holds what portald put there.
    @discardableResult
    func reconcile(_ state: inout ChangeState, because cause: String, timer: Bool = false) throws -> Repair {
        let started = ContinuousClock.now
        if timer, !state.needsReconcile, let last = state.lastReadBack, started - last < Self.readBackInterval,
           let written = state.timeoutsWritten, abs(now().timeIntervalSince(written.wall) - Self.seconds(started - written.monotonic)) < 2,
           (try? firewall.isUnchanged()) == true {
            state.lastReconcile = .now
            state.lastReport = ReconcileRecord(at: now(), cause: cause, repair: Repair(), duration: ContinuousClock.now - started, readBack: false)
            return Repair()
        }
        state.needsReconcile = true
        let desired = try desiredDevices()
        let repair: Repair
        do {
            repair = try firewall.reconcile(desired: desired)
        } catch {
            metrics.firewallApplied(.reconcile, duration: .now - started, failed: true)
            throw error
        }
        metrics.firewallApplied(.reconcile, duration: .now - started, failed: false)
        metrics.repaired(repair)
        state.needsReconcile = false
        state.lastReconcile = .now
        state.lastReadBack = .now
        if repair.reinstalled { state.timeoutsWritten = (.now, now()) }
        let record = ReconcileRecord(at: now(), cause: cause, repair: repair, duration: ContinuousClock.now - started)
        state.lastReport = record
        if !repair.isEmpty { state.lastRepair = record }
        if repair.reinstalled {
            logger.warning("firewall table was missing; installed again with every live session (their counters since the last read are lost)",
                           metadata: ["sessions": "\(Set(desired.map(\.mac)).count)", "cause": "\(cause)"])
        } else if !repair.isEmpty {
            // The first few elements by name: a journal line, not a dump of every guest.
            logger.warning("firewall repaired to match the sessions", metadata: [
                "added": "\(repair.added.count)", "removed": "\(repair.removed.count)",
                "first_added": "\(repair.added.prefix(10).map(\.description))", "first_removed": "\(repair.removed.prefix(10).map(\.description))",
                "rules_restored": "\(repair.rulesRestored)", "tier_added": "\(repair.extras.tierAdded.count)",
                "tier_removed": "\(repair.extras.tierRemoved.count)",
                "garden_restored": "\(repair.extras.gardenRestored)", "cause": "\(cause)"])
        }
        return repair
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// The live sessions as the kernel should hold them, each with the time it has left.
    func desiredDevices() throws -> [AuthorizedDevice] {
        let at = now()
        return try store.pool.read { db in try SessionRecords.liveElements(at: at, in: db) }
    }

    func preservingTrafficLocked(_ change: () throws -> Void) throws {
        let traffic = counters() ?? [:]
        try change()
        guard !traffic.isEmpty else { return }
        try carryOver(traffic)
    }

    /// Adds counters read from a table since replaced to the active sessions.
    func carryOver(_ traffic: [IPAddress: TrafficCounters]) throws {
        try store.pool.write { db in
            for var session in try SessionRecords.active(in: db) {
                let counted = session.device.addresses.compactMap { traffic[$0] }
                guard !counted.isEmpty else { continue }
                counted.forEach { session.addTraffic($0) }
                try SessionRecords.update(session, in: db)
            }
        }
    }

    /// A session's live counters, read as it ends (or as an address leaves it).
    enum TrafficReading {
        case counted(TrafficCounters)
        /// The kernel counts nothing for it (no element, or no capture): nothing to add.
        case none
        /// The read failed: the session's last bytes are unknown.
        case failed

        /// A session's reading from its addresses': their sum, unknown if any is.
        static func combined(_ readings: [TrafficReading]) -> TrafficReading {
            var sum: TrafficCounters?
            for reading in readings {
                switch reading {
                case .failed: return .failed
                case .none: continue
                case .counted(let counted):
                    sum = TrafficCounters(bytesUp: (sum?.bytesUp ?? 0) &+ counted.bytesUp, bytesDown: (sum?.bytesDown ?? 0) &+ counted.bytesDown)
                }
            }
            return sum.map(TrafficReading.counted) ?? .none
        }
    }

    /// One address's live counters: a lookup, not a dump of every guest's. A failed
    /// read is logged, and the ended session reports its bytes as unknown.
    func counters(of address: IPAddress) -> TrafficReading {
        do {
            return try firewall.counters(for: address).map(TrafficReading.counted) ?? .none
        } catch {
            logger.error("reading the counters of \(address) failed; its session's bytes will be reported as unknown", metadata: ["error": "\(error)"])
            return .failed
        }
    }

    func counters() -> [IPAddress: TrafficCounters]? {
        do {
            return try firewall.counters()
        } catch {
            logger.error("reading the counters failed", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Ends a session in `db`; `traffic` (its live counters) adds the last bytes.
    @discardableResult
    func end(_ session: Session, reason: Session.EndReason, at: Date, traffic: TrafficReading, in db: Database) throws -> Session {
        var ended = session
        ended.endedAt = at
        ended.endReason = reason
        ended.add(traffic)
        try SessionRecords.update(ended, in: db)
        try outbox.record("wifi.session.ended", data: SessionEventData(session: ended), at: at, in: db)
        logger.info("session ended", metadata: ["mac": "\(session.mac)", "reason": "\(reason.rawValue)", "session": "\(session.id)",
                                                "bytes_up": "\(ended.bytesUp)", "bytes_down": "\(ended.bytesDown)"])
        return ended
    }
}

extension Session {
    /// Adds what a reading of its counters found; a failed read leaves its bytes unknown.
    mutating func add(_ reading: SessionService.TrafficReading) {
        switch reading {
        case .counted(let counted): addTraffic(counted)
        case .none: break
        case .failed: trafficUnknown = true
        }
    }
}
