import Foundation
import HTTPServer
import Outbox
import Store

/// `portald status`: what IT looks at first when a guest calls the front desk. One
/// read of the store, the kernel's table, and what the daemon remembers.
public struct StatusView: Codable, Sendable {
    public struct Listener: Codable, Sendable {
        public var name: String
        public var address: String
    }

    public struct Sessions: Codable, Sendable {
        public var total: Int
        /// Every login method, zero included.
        public var byMethod: [String: Int]
        enum CodingKeys: String, CodingKey { case total, byMethod = "by_method" }
    }

    public struct Endpoint: Codable, Sendable {
        public var id: String
        /// `active`, `paused`, `inactive`, `suspended` (a 410), `removed` (deliveries left by a deleted endpoint).
        public var status: String
        public var pending: Int
        public var dead: Int
        public var oldestPendingAt: Date?
        public var oldestPendingAgeSeconds: Int?
        enum CodingKeys: String, CodingKey {
            case id, status, pending, dead, oldestPendingAt = "oldest_pending_at", oldestPendingAgeSeconds = "oldest_pending_age_seconds"
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(status, forKey: .status)
            try container.encode(pending, forKey: .pending)
            try container.encode(dead, forKey: .dead)
            try container.encode(oldestPendingAt, forKey: .oldestPendingAt)  // null, not absent
            try container.encode(oldestPendingAgeSeconds, forKey: .oldestPendingAgeSeconds)
        }
    }

    /// The health checks' last report, as `GET /api/v1/health` gives it.
    public struct Health: Codable, Sendable {
        /// `ok`, `failing`, or `starting` before the first check.
        public var status: String
        public var checks: [String: String]
        public var checkedAt: Date?
        enum CodingKeys: String, CodingKey { case status, checks, checkedAt = "checked_at" }
    }

    public struct Firewall: Codable, Sendable {
        public var backend: String
        public var table: String
        /// Whether portald's table is in the kernel now (false with `backend = "none"`).
        public var installed: Bool
        /// Why the kernel could not be read, when it could not.
        public var error: String?
    }

    /// Always true: a daemon that answers runs (`portald status --json` says false when none does).
    public var running = true
    public var version: String
    public var startedAt: Date
    public var uptimeSeconds: Int
    public var configFile: String
    public var site: String
    public var listeners: [Listener]
    public var health: Health
    public var firewall: Firewall
    public var sessions: Sessions
    public var outbox: [Endpoint]
    public var lastReconcile: FirewallStatusView.ReconcileView?
    /// The last warnings and errors logged, oldest first.
    public var recentErrors: [RecentLog.Entry]

    enum CodingKeys: String, CodingKey {
        case running, version, startedAt = "started_at", uptimeSeconds = "uptime_seconds", configFile = "config_file", site, listeners, health, firewall,
             sessions, outbox, lastReconcile = "last_reconcile", recentErrors = "recent_errors"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(running, forKey: .running)
        try container.encode(version, forKey: .version)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(uptimeSeconds, forKey: .uptimeSeconds)
        try container.encode(configFile, forKey: .configFile)
        try container.encode(site, forKey: .site)
        try container.encode(listeners, forKey: .listeners)
        try container.encode(health, forKey: .health)
        try container.encode(firewall, forKey: .firewall)
        try container.encode(sessions, forKey: .sessions)
        try container.encode(outbox, forKey: .outbox)
        try container.encode(lastReconcile, forKey: .lastReconcile)  // null, not absent
        try container.encode(recentErrors, forKey: .recentErrors)
    }
}

/// What the status is made of; the daemon fills it in as it starts.
struct StatusSource: Sendable {
    var startedAt: Date
    var configFile: String
    var site: String
    var listeners: [StatusView.Listener]
    var firewall: FirewallStatus
    var store: Store
    var outbox: Outbox
    var health: @Sendable () -> (report: HealthReport, at: Date)?
    var log: RecentLog
    var now: @Sendable () -> Date = Date.init

    func view() throws -> StatusView {
        let at = now()
        let (counts, stats) = try store.pool.read { db in (try SessionRecords.countsByMethodAndTier(in: db), try outbox.stats(in: db)) }
        var byMethod = Dictionary(uniqueKeysWithValues: Session.Method.allCases.map { ($0.rawValue, 0) })
        for count in counts { byMethod[count.method, default: 0] += count.count }
        var kernel = StatusView.Firewall(backend: firewall.backend, table: firewall.table, installed: false)
        if firewall.backend != "none" {
            do {
                // Two small sets (trusted, blocked), not a dump of every guest's.
                kernel.installed = try firewall.sessions.firewall.kernelRules() != nil
            } catch {
                kernel.error = "\(error)"
            }
        }
        let report = self.health().map { $0.report.view(checkedAt: $0.at) }
        let health = StatusView.Health(status: report?.status ?? "starting", checks: report?.checks ?? [:], checkedAt: report?.checkedAt)
        return StatusView(
            version: Daemon.version, startedAt: startedAt, uptimeSeconds: max(0, Int(at.timeIntervalSince(startedAt))), configFile: configFile,
            site: site, listeners: listeners, health: health, firewall: kernel,
            sessions: .init(total: byMethod.values.reduce(0, +), byMethod: byMethod),
            outbox: stats.endpoints.map { endpoint in
                .init(id: endpoint.id, status: endpoint.status, pending: endpoint.pending, dead: endpoint.dead, oldestPendingAt: endpoint.oldestPendingAt,
                      oldestPendingAgeSeconds: endpoint.oldestPendingAt.map { max(0, Int(at.timeIntervalSince($0))) })
            },
            lastReconcile: firewall.sessions.reconcileRecords().last.map(FirewallStatusView.ReconcileView.init),
            recentErrors: log.latest)
    }
}

/// `GET /api/v1/status`.
struct StatusController {
    let source: StatusSource

    func addRoutes(to api: DocumentedRoutes) {
        api.scoped(AdminScope.statusRead).get("/status", APIOperation(
            summary: "What runs: version, uptime, config file, listeners, health, the nft table, sessions by method, the outbox's backlog per endpoint, the last reconcile, recent warnings and errors",
            responses: [200: ("the daemon's status", "Status")])) { _, _ in
            .json(try source.view())
        }
    }
}
