import Arrivals
import Firewall
import Foundation
import GRDB
import Lab
import Logging
import Synchronization
import Testing
@testable import HTTPServer
@testable import Outbox
@testable import PortalD
@testable import Store

/// Issue 7, item 4: `/api/v1/health` checks each part for real and says what failed.
@Suite("health checks", .serialized)
struct HealthTests {
    /// A store, an installed in-memory firewall, a dispatcher for one endpoint and a real
    /// listener on loopback standing for the portal.
    func make() throws -> (HealthCheck, Store, MemoryFirewall, HTTPServer) {
        let (store, _) = try temporaryStore()
        let firewall = MemoryFirewall()
        try firewall.install(devices: [])
        let outbox = Outbox(siteID: "h", endpoints: [try WebhookEndpoint(
            id: "crm", url: URL(string: "http://192.0.2.99/hook")!,
            secrets: [WebhookSecret("whsec_" + Data(repeating: 7, count: 24).base64EncodedString())], topics: ["*"])])
        let dispatcher = Dispatcher(store: store, outbox: outbox, settings: DeliverySettings(), logger: Logger(label: "t"))
        dispatcher.liveness.beat("crm")
        let portal = try HTTPServer(options: HTTPServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0), threads: 1),
                                    responder: Fixed(.text("ok")))
        return (HealthCheck(store: store, firewall: firewall, dispatcher: dispatcher,
                            portal: ListenAddress(host: "127.0.0.1", port: portal.port), portalActivity: { portal.activity }),
                store, firewall, portal)
    }

    @Test("all parts working: every check passes")
    func healthy() throws {
        let (check, _, _, portal) = try make()
        defer { portal.stop() }
        let report = check.run()
        #expect(report.healthy, "\(report)")
        #expect(Set(report.failures.keys) == Set(HealthCheck.names))
    }

    @Test("a store that takes no write, a missing table, a portal that does not answer: each named")
    func failuresAreNamed() throws {
        let (check, store, firewall, portal) = try make()
        try store.pool.write { try $0.execute(sql: "DROP TABLE store_probe") }
        try firewall.teardown()
        portal.stop()
        let report = check.run()
        #expect(!report.healthy)
        #expect(report.failed == ["firewall", "portal", "store"])
        #expect(report.failure("store")?.summary == "the database does not take a write")
        #expect(report.failure("store")?.detail?.contains("store_probe") == true)  // SQLite's own words, for the log
        #expect(report.failure("firewall")?.summary.contains("missing") == true)
        #expect(report.failure("portal")?.summary.contains("does not answer") == true)
        let view = report.view(checkedAt: nil)
        #expect(view.status == "failing")
        #expect(view.checks["dispatcher"] == "ok")
        // The route needs no token: what it shows is the summary, never an error's text.
        #expect(view.checks["store"] == "the database does not take a write")
    }

    @Test("a portal too busy to answer the probe, whose threads keep working, is saturated: it passes with a note")
    func saturatedIsNotHung() throws {
        let (store, _) = try temporaryStore()
        let firewall = MemoryFirewall()
        try firewall.install(devices: [])
        let dispatcher = Dispatcher(store: store, outbox: Outbox(siteID: "h", endpoints: []), settings: DeliverySettings(), logger: Logger(label: "t"))
        // A real listener with room for one connection, taken by an idle client after the first check.
        let portal = try HTTPServer(options: HTTPServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0), threads: 1, maxConnections: 1),
                                    responder: Fixed(.text("ok")))
        defer { portal.stop() }
        let address = ListenAddress(host: "127.0.0.1", port: portal.port)
        let check = HealthCheck(store: store, firewall: firewall, dispatcher: dispatcher, portal: address,
                                portalActivity: { portal.activity }, probeTimeout: .milliseconds(500))
        #expect(check.run().healthy)
        // Guests are being served (two whole requests), then the one slot is taken.
        #expect(HTTPServer.answers(at: address, path: "/"))
        #expect(HTTPServer.answers(at: address, path: "/"))
        let idle = try TCPClient(port: portal.port)
        defer { idle.close() }
        Thread.sleep(forTimeInterval: 0.2)
        let busy = check.run()
        #expect(busy.healthy, "\(busy)")
        #expect(busy.notes["portal"]?.hasPrefix("busy:") == true)
        #expect(busy.view(checkedAt: nil).checks["portal"]?.hasPrefix("busy:") == true)

        // Nothing answers and nothing moves: hung.
        let stopped = try HTTPServer(options: HTTPServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0), threads: 1),
                                     responder: Fixed(.text("ok")))
        let silent = ListenAddress(host: "127.0.0.1", port: stopped.port)
        stopped.stop()
        let hung = HealthCheck(store: store, firewall: firewall, dispatcher: dispatcher, portal: silent,
                               portalActivity: { 7 }, probeTimeout: .milliseconds(200))
        #expect(hung.run().failure("portal")?.summary == "the portal at \(silent) does not answer")
        // Moving by no more than a probe's own connection would: still hung.
        let probeOnly = Mutex(0)
        let barely = HealthCheck(store: store, firewall: firewall, dispatcher: dispatcher, portal: silent,
                                 portalActivity: { probeOnly.withLock { $0 += HealthCheck.probeShare; return $0 } }, probeTimeout: .milliseconds(200))
        #expect(!barely.run().healthy)
        // Busy, but unreachable for more than a minute of checks: that fails too.
        let moving = Mutex(0)
        let crowded = HealthCheck(store: store, firewall: firewall, dispatcher: dispatcher, portal: silent,
                                  portalActivity: { moving.withLock { $0 += 10; return $0 } }, probeTimeout: .milliseconds(200))
        for _ in 1...HealthCheck.busyChecksAllowed { #expect(crowded.run().healthy) }
        #expect(crowded.run().failure("portal")?.summary.contains("though busy") == true)
        // Every portal listener is probed: a silent second one (the IPv6 portal) fails the check, named.
        let second = HealthCheck(store: store, firewall: firewall, dispatcher: dispatcher, portal: address, portalActivity: { portal.activity },
                                 more: [PortalProbe(address: silent, activity: { 7 })], probeTimeout: .milliseconds(200))
        idle.close()
        Thread.sleep(forTimeInterval: 0.2)
        #expect(second.run().failure("portal")?.summary == "the portal at \(silent) does not answer")
    }

    @Test("a delivery loop that has not come round within the delivery timeout and a minute is stuck")
    func stalledDispatcher() {
        let liveness = DispatcherLiveness()
        liveness.beat("crm")
        liveness.beat("pms")
        let later = ContinuousClock.now + .seconds(80)
        #expect(liveness.stalled(expected: ["crm", "pms"], allowance: .seconds(75), now: later) == ["crm", "pms"])
        liveness.beat("pms")
        #expect(liveness.stalled(expected: ["crm", "pms"], allowance: .seconds(75), now: ContinuousClock.now + .seconds(70)) == [])
        // A loop that never started counts from the dispatcher's creation.
        #expect(liveness.stalled(expected: ["new"], allowance: .seconds(75), now: later) == ["new"])
    }

    @Test("/api/v1/health serves housekeeping's last report: 503 with what failed, 200 when all pass; no token needed")
    func healthRoute() throws {
        let (store, _) = try temporaryStore()
        func api(_ report: HealthReport?) throws -> AdminAPI {
            try makeAdminAPI(store: store, credentials: [], health: { report.map { ($0, Date()) } })
        }
        func get(_ api: AdminAPI) throws -> (Int, [String: Any]) {
            let reply = api.respond(to: HTTPRequest(method: .get, target: "/api/v1/health", clientAddress: "127.0.0.1"))
            guard case .later(let work) = reply else { throw HTTPServerError("health was not offloaded") }
            let response = work()
            return (response.status, try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]))
        }
        let (failingStatus, failing) = try get(api(HealthReport(failures: ["store": .init(summary: "the database does not take a write", detail: "disk full"), "portal": nil])))
        #expect(failingStatus == 503)
        #expect(failing["status"] as? String == "failing")
        #expect((failing["checks"] as? [String: String]) == ["store": "the database does not take a write", "portal": "ok"])
        let (okStatus, ok) = try get(api(HealthReport(failures: ["store": nil, "portal": nil])))
        #expect(okStatus == 200)
        #expect(ok["status"] as? String == "ok")
        #expect(ok["checked_at"] is String)
        // Before housekeeping's first check: not yet healthy.
        let (startingStatus, starting) = try get(api(nil))
        #expect(startingStatus == 503)
        #expect(starting["status"] as? String == "starting")
    }
}

/// A responder that always answers the same.
private struct Fixed: HTTPResponder {
    let response: HTTPResponse
    init(_ response: HTTPResponse) { self.response = response }
    func respond(to request: HTTPRequest) -> HTTPReply { .now(response) }
}

@Suite("admin API failures")
struct AdminFailureTests {
    struct Broken: Error, CustomStringConvertible { var description: String { "SQLITE_CORRUPT: database disk image is malformed (/var/lib/portald/portald.db)" } }

    /// Every read fails with an error whose text must not reach the caller.
    struct FailingClients: ClientRepository {
        func now() -> Date { Date() }
        func activeSessions() throws -> [Session] { throw Broken() }
        func activeSession(mac: MACAddress) throws -> Session? { throw HTTPError(500, code: "store_error", message: "SELECT * FROM session: disk I/O error") }
        func address(of mac: MACAddress) -> IPAddress? { nil }
        func authorize(mac: MACAddress, address: IPAddress, minutes: Int?, tier: String??) throws -> Session { throw Broken() }
        var tiers: Set<String> { [] }
        func deauthorize(mac: MACAddress) throws -> Session { throw Broken() }
        func sessions(of subject: SessionSubject) throws -> [Session] { throw Broken() }
    }

    @Test("a 500 says only \"internal error\" and a request id; the details are logged under that id")
    func internalErrorsHideDetails() throws {
        let (store, _) = try temporaryStore()
        let records = LogRecords()
        let token = String(repeating: "t", count: 32)
        let api = try makeAdminAPI(store: store, credentials: [AdminCredential(name: "ops", secret: Array(token.utf8), scopes: [AdminScope.all])],
                                   clients: FailingClients(), logger: Logger(label: "t") { _ in records })
        for path in ["/api/v1/clients", "/api/v1/clients/02:00:00:00:00:10"] {
            var headers = HTTPHeaders()
            headers.add("Authorization", "Bearer \(token)")
            guard case .later(let work) = api.respond(to: HTTPRequest(method: .get, target: path, headers: headers, body: [], clientAddress: "127.0.0.1")) else {
                Issue.record("not offloaded")
                continue
            }
            let response = work()
            let body = String(decoding: response.body, as: UTF8.self)
            #expect(response.status == 500)
            let id = try #require(response.headers["x-request-id"])
            #expect(body.contains("internal error (request id \(id))"), "\(body)")
            #expect(!body.contains("SQLITE") && !body.contains("disk"), "\(body)")
            #expect(records.lines.contains { $0.contains(id) && ($0.contains("SQLITE_CORRUPT") || $0.contains("disk I/O")) }, "\(records.lines)")
        }
    }
}

/// A log handler that keeps each message with its metadata.
final class LogRecords: LogHandler, @unchecked Sendable {
    private let stored = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    var lines: [String] { stored.withLock { $0 } }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? { get { nil } set {} }
    func log(event: LogEvent) {
        stored.withLock { $0.append("\(event.message) \(event.metadata ?? [:])") }
    }
}
