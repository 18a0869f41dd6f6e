import Firewall
import Foundation
import HTTPServer
import Outbox
import Store
import Synchronization

/// What `/api/v1/health` answers and what decides the systemd watchdog's keep-alive:
/// each part of the daemon a guest or an integrator depends on, checked for real.
struct HealthReport: Sendable, Equatable {
    /// What a failed check found: `summary` is served to anyone who asks (the route needs no
    /// token); `detail` (an error's text, a path) goes to the log only.
    struct Failure: Sendable, Equatable {
        var summary: String
        var detail: String?
    }

    /// Each check by name: nil when it passed, else what failed.
    var failures: [String: Failure?]
    /// Checks that passed with something to say, such as a portal too busy to answer a probe.
    var notes: [String: String] = [:]

    var healthy: Bool { failures.values.allSatisfy { $0 == nil } }

    /// `{"status": "ok"|"failing", "checks": {"store": "ok", "firewall": "portald's nft table … is missing", …}}`
    struct View: Encodable {
        var status: String
        var checks: [String: String]
        var checkedAt: Date?
        enum CodingKeys: String, CodingKey { case status, checks, checkedAt = "checked_at" }
    }

    func view(checkedAt: Date?) -> View {
        var checks: [String: String] = [:]
        for (name, failure) in failures { checks[name] = failure?.summary ?? notes[name] ?? "ok" }
        return View(status: healthy ? "ok" : "failing", checks: checks, checkedAt: checkedAt)
    }

    var failed: [String] { failures.filter { $0.value != nil }.map(\.key).sorted() }

    func failure(_ check: String) -> Failure? { failures[check] ?? nil }
}

/// The checks, run on the worker pool (each blocks: SQLite, netlink, a socket).
final class HealthCheck: Sendable {
    let store: Store
    let firewall: any Firewall
    let dispatcher: Dispatcher
    /// The portal's listeners (IPv4, and `[portal] listen_ipv6`), each probed as a guest would reach it.
    let portals: [PortalProbe]
    let probeTimeout: Duration
    /// A probe's own connection moves a server's `activity` by up to 3 (opened, answered,
    /// closed), some of it after the check read it: more than that is other guests' traffic.
    static let probeShare = 3
    /// Busy for this many checks in a row (about a minute at 10 s) counts as a failure:
    /// a portal nobody can reach for that long is of no use, however busy its threads.
    static let busyChecksAllowed = 6

    /// `portalActivity`: the portal server's `activity`, whether MHD's threads got on with
    /// their work while a probe went unanswered. `more`: further listeners (the IPv6 one).
    init(store: Store, firewall: any Firewall, dispatcher: Dispatcher, portal: ListenAddress,
         portalActivity: @escaping @Sendable () -> Int, more: [PortalProbe] = [], probeTimeout: Duration = .seconds(2)) {
        self.store = store
        self.firewall = firewall
        self.dispatcher = dispatcher
        self.portals = [PortalProbe(address: portal, activity: portalActivity)] + more
        self.probeTimeout = probeTimeout
    }

    static let names = ["store", "firewall", "dispatcher", "portal"]

    func run() -> HealthReport {
        // Every listener is probed (each keeps its own count of busy checks); the first failure is the one reported.
        let results = portals.map { $0.check(timeout: probeTimeout) }
        let portalFailure = results.lazy.compactMap(\.failure).first
        let notes = results.compactMap(\.note)
        return HealthReport(failures: ["store": storeFailure(), "firewall": firewallFailure(), "dispatcher": dispatcherFailure(),
                                       "portal": portalFailure],
                            notes: notes.isEmpty || portalFailure != nil ? [:] : ["portal": notes.joined(separator: "; ")])
    }

    /// A write and a read of the store.
    func storeFailure() -> HealthReport.Failure? {
        do {
            try store.probe()
            return nil
        } catch {
            return .init(summary: "the database does not take a write", detail: "\(error)")
        }
    }

    /// portald's table and its sets are in the kernel: known from the ruleset's generation
    /// when nothing but portald changed it since the last read-back, else read back (at
    /// 10 000 guests a dump of every set, which the generation spares most checks).
    func firewallFailure() -> HealthReport.Failure? {
        do {
            if (try? firewall.isUnchanged()) == true { return nil }
            return try firewall.state() == nil ? .init(summary: "portald's nft table or one of its sets is missing") : nil
        } catch {
            return .init(summary: "the nft table cannot be read", detail: "\(error)")
        }
    }

    func dispatcherFailure() -> HealthReport.Failure? {
        let stalled = dispatcher.stalledEndpoints
        return stalled.isEmpty ? nil : .init(summary: "delivery to \(stalled.joined(separator: ", ")) is stuck")
    }

}

/// One portal listener, probed with a request for a host the portal captures.
final class PortalProbe: Sendable {
    let address: ListenAddress
    let activity: @Sendable () -> Int
    /// `activity` at the end of the previous check, and how many checks in a row found it busy.
    private let seen = Mutex<(activity: Int?, busyChecks: Int)>((nil, 0))

    init(address: ListenAddress, activity: @escaping @Sendable () -> Int) {
        self.address = address
        self.activity = activity
    }

    /// The redirect is answered on MHD's own thread, so the probe needs no worker (the
    /// checks run on one) and sees a hung listener as such. A portal that does not answer
    /// while its threads keep opening and closing connections (since the previous check,
    /// whose interval spans the request deadline that cuts slow clients) is saturated by
    /// a flood or a crowd, not hung: restarting it would only drop every guest's
    /// connection, so that passes, with a note.
    func check(timeout: Duration) -> (failure: HealthReport.Failure?, note: String?) {
        let before = seen.withLock { $0.activity } ?? activity()
        let answered = HTTPServer.answers(at: address, path: "/", host: "portald-health.invalid", timeout: timeout)
        let after = activity()
        let busyChecks = seen.withLock { seen in
            seen.activity = after
            seen.busyChecks = !answered && after - before > HealthCheck.probeShare ? seen.busyChecks + 1 : 0
            return seen.busyChecks
        }
        if answered { return (nil, nil) }
        if busyChecks == 0 { return (.init(summary: "the portal at \(address) does not answer"), nil) }
        if busyChecks > HealthCheck.busyChecksAllowed {
            return (.init(summary: "the portal at \(address) has not answered for \(busyChecks) checks in a row, though busy"), nil)
        }
        return (nil, "busy: the portal at \(address) did not answer a probe within \(timeout) but is serving connections")
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
