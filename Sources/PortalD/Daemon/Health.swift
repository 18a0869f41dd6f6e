import Firewall
import Foundation
import HTTPServer
import Outbox
import Store
import Synchronization

/// What `/api/v1/health` answers and what decides the systemd watchdog's keep-alive:
/// each part of the daemon a guest or an integrator depends on, checked for real.
struct HealthReport: Sendable, Equatable {
    /// Each check by name: nil when it passed, else what failed.
    var failures: [String: String?]

    var healthy: Bool { failures.values.allSatisfy { $0 == nil } }

    /// `{"status": "ok"|"failing", "checks": {"store": "ok", "firewall": "portald's nft table … is missing", …}}`
    struct View: Encodable {
        var status: String
        var checks: [String: String]
        var checkedAt: Date?
        enum CodingKeys: String, CodingKey { case status, checks, checkedAt = "checked_at" }
    }

    func view(checkedAt: Date?) -> View {
        View(status: healthy ? "ok" : "failing", checks: failures.mapValues { $0 ?? "ok" }, checkedAt: checkedAt)
    }

    var failed: [String] { failures.filter { $0.value != nil }.map(\.key).sorted() }

    func failure(_ check: String) -> String? { failures[check] ?? nil }
}

/// The checks, run on the worker pool (each blocks: SQLite, netlink, a socket).
struct HealthCheck: Sendable {
    let store: Store
    let firewall: any Firewall
    let dispatcher: Dispatcher
    /// The portal's listener, probed as a guest would reach it.
    let portal: ListenAddress

    static let names = ["store", "firewall", "dispatcher", "portal"]

    func run() -> HealthReport {
        HealthReport(failures: [
            "store": storeFailure(),
            "firewall": firewallFailure(),
            "dispatcher": dispatcherFailure(),
            // A host the portal captures: the redirect is answered on MHD's own thread, so the
            // probe needs no worker (the checks run on one) and sees a hung listener as such.
            "portal": HTTPServer.answers(at: portal, path: "/", host: "portald-health.invalid") ? nil : "the portal at \(portal) does not answer",
        ])
    }

    /// A write and a read of the store.
    func storeFailure() -> String? {
        do {
            try store.probe()
            return nil
        } catch {
            return "the database does not take a write: \(error)"
        }
    }

    /// portald's table and its sets are in the kernel.
    func firewallFailure() -> String? {
        do {
            return try firewall.state() == nil ? "portald's nft table or one of its sets is missing" : nil
        } catch {
            return "the nft table cannot be read: \(error)"
        }
    }

    func dispatcherFailure() -> String? {
        let stalled = dispatcher.stalledEndpoints
        return stalled.isEmpty ? nil : "delivery to \(stalled.joined(separator: ", ")) is stuck"
    }
}

/// The last report housekeeping made, which `/api/v1/health` serves: a caller, who needs
/// no token, never makes portald write, dump its sets or wait for a worker.
final class HealthStatus: Sendable {
    private let last = Mutex<(report: HealthReport, at: Date)?>(nil)

    func record(_ report: HealthReport, at: Date = Date()) { last.withLock { $0 = (report, at) } }

    /// The last report and when it was made; nil before the first check.
    var latest: (report: HealthReport, at: Date)? { last.withLock { $0 } }
}
