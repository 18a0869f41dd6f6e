import Firewall
import Foundation
import Logging
import Outbox
import Testing
@testable import HTTPServer
@testable import PortalD

/// The counting itself: what each login, answer and apply adds, and gauges that drop
/// what is gone. The exposition is checked by an independent parser in EndToEndTests.
@Suite("metrics")
struct MetricsUnitTests {
    /// The exposition's sample lines, by `name{labels}`.
    func samples(_ metrics: PortalMetrics) -> [String: String] {
        var lines: [String: String] = [:]
        for line in String(decoding: metrics.exposition(), as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            let cut = line.lastIndex(of: " ")!
            lines[String(line[..<cut])] = String(line[line.index(after: cut)...])
        }
        return lines
    }

    @Test("logins are counted by method and result: started, kept, blocked")
    func logins() throws {
        let (store, _) = try temporaryStore()
        let metrics = PortalMetrics()
        let sessions = SessionService(store: store, firewall: MemoryFirewall(), sessionMinutes: 60, metrics: metrics, logger: Logger(label: "t"))
        _ = try sessions.restore()
        let mac = MACAddress("02:00:00:00:00:aa")!, address = IPv4Address("192.0.2.10")!
        try sessions.login(mac: mac, ipv4: address, method: .terms)
        try sessions.login(mac: mac, ipv4: address, method: .terms)
        let blocked = MACAddress("02:00:00:00:00:bb")!
        _ = try sessions.setRule(.blocked, for: blocked, note: nil)
        #expect(throws: SessionError.self) { try sessions.login(mac: blocked, ipv4: IPv4Address("192.0.2.11")!, method: .admin) }
        let lines = samples(metrics)
        #expect(lines["portald_logins_total{method=\"terms\",result=\"started\"}"] == "1")
        #expect(lines["portald_logins_total{method=\"terms\",result=\"kept\"}"] == "1")
        #expect(lines["portald_logins_total{method=\"admin\",result=\"blocked\"}"] == "1")
        #expect(lines["portald_logins_total{method=\"admin\",result=\"started\"}"] == "0")
        #expect(lines["portald_firewall_apply_duration_seconds_count{operation=\"install\"}"] == "1")
        #expect(lines["portald_firewall_apply_duration_seconds_count{operation=\"update\"}"] == "1", "the kept login changed nothing")
    }

    @Test("a router reports each answer by route pattern, never by the concrete path")
    func requestsByPattern() throws {
        let metrics = PortalMetrics()
        let router = Router(context: BasicRequestContext.self, errors: { error, _ in .plainJSON(error) })
        router.get("/clients/{mac}") { _, _ in .text("ok") }
        router.get("/slow", execution: .offloaded) { _, _ in .text("ok", status: 202) }
        let responder = router.responder(observer: metrics.requests(listener: "admin"))
        for target in ["/clients/02:00:00:00:00:01", "/clients/02:00:00:00:00:02", "/nothing", "/slow"] {
            _ = responder.answer(HTTPRequest(method: .get, target: target, headers: HTTPHeaders(), body: [], clientAddress: "127.0.0.1"))
        }
        _ = responder.answer(HTTPRequest(method: .post, target: "/slow", headers: HTTPHeaders(), body: [], clientAddress: "127.0.0.1"))
        let lines = samples(metrics)
        #expect(lines["portald_http_requests_total{listener=\"admin\",route=\"/clients/{mac}\",status=\"200\"}"] == "2")
        #expect(lines["portald_http_requests_total{listener=\"admin\",route=\"(unmatched)\",status=\"404\"}"] == "1")
        #expect(lines["portald_http_requests_total{listener=\"admin\",route=\"/slow\",status=\"202\"}"] == "1", "an offloaded route, counted once it ran")
        #expect(lines["portald_http_requests_total{listener=\"admin\",route=\"/slow\",status=\"405\"}"] == "1")
        #expect(lines["portald_http_request_duration_seconds_count{listener=\"admin\",route=\"/clients/{mac}\"}"] == "2")
        #expect(!lines.keys.contains { $0.contains("02:00:00:00:00:01") })
    }

    @Test("a deleted endpoint's attempt, settled and latency series go; another endpoint's stay")
    func forgottenEndpoint() {
        let metrics = PortalMetrics()
        for endpoint in ["gone", "kept"] {
            metrics.attempted(endpoint: endpoint, outcome: .delivered, latency: .milliseconds(20))
            metrics.attempted(endpoint: endpoint, outcome: .retryable, latency: .milliseconds(30))
            metrics.settled(endpoint: endpoint, status: .delivered)
        }
        metrics.forget(endpoint: "gone")
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(!text.contains("endpoint=\"gone\""), "\(text)")
        #expect(text.contains("portald_webhook_attempts_total{endpoint=\"kept\",outcome=\"retryable\"} 1"), "\(text)")
        #expect(text.contains("portald_webhook_deliveries_settled_total{endpoint=\"kept\",status=\"delivered\"} 1"))
        #expect(text.contains("portald_webhook_delivery_duration_seconds_count{endpoint=\"kept\"} 2"))
    }

    @Test("a scrape's gauges drop label sets that are gone, and keep every method at zero")
    func gaugesFollowTheStore() throws {
        let (store, _) = try temporaryStore()
        let metrics = PortalMetrics()
        let outbox = Outbox(siteID: "h", endpoints: [])
        let sessions = SessionService(store: store, firewall: MemoryFirewall(), outbox: outbox, sessionMinutes: 60, metrics: metrics, logger: Logger(label: "t"))
        let scrape = MetricsScrape(metrics: metrics, store: store, outbox: outbox, timeZone: .gmt)
        let mac = MACAddress("02:00:00:00:00:aa")!
        try sessions.login(mac: mac, ipv4: IPv4Address("192.0.2.10")!, method: .admin, tier: .some("gold"))
        var text = String(decoding: try scrape.scrape(), as: UTF8.self)
        #expect(text.contains("portald_sessions_active{method=\"admin\",tier=\"gold\"} 1.0"))
        #expect(text.contains("portald_sessions_active{method=\"terms\",tier=\"none\"} 0.0"))
        try sessions.deauthorize(mac: mac)
        text = String(decoding: try scrape.scrape(), as: UTF8.self)
        #expect(!text.contains("tier=\"gold\""), "a tier no session is in is dropped, not left at 1")
        #expect(text.contains("portald_sessions_active{method=\"admin\",tier=\"none\"} 0.0"))
        #expect(text.contains("portald_reservations{status=\"in_house\"} 0.0"))
        #expect(text.contains("process_resident_memory_bytes "))
    }
}

@Suite("portald status, as printed")
struct StatusRenderTests {
    func view(health: StatusView.Health) -> StatusView {
        StatusView(version: "0.1.0", startedAt: Date(timeIntervalSince1970: 1_800_000_000), uptimeSeconds: 3 * 3600 + 5 * 60,
                   configFile: "/etc/portald/portald.toml", site: "h (Hotel)", listeners: [.init(name: "portal", address: "192.0.2.1:8080")],
                   health: health, firewall: .init(backend: "nftables", table: "portald", installed: false),
                   sessions: .init(total: 3, byMethod: ["terms": 2, "arrival": 1, "admin": 0]),
                   outbox: [.init(id: "crm", status: "suspended", pending: 4, dead: 1, oldestPendingAt: Date(timeIntervalSince1970: 1_800_000_000),
                                  oldestPendingAgeSeconds: 600)],
                   lastReconcile: nil,
                   recentErrors: [.init(at: Date(timeIntervalSince1970: 1_800_000_000), level: "error", message: "firewall apply failed; reconciling",
                                        metadata: ["change": "authorize", "error": "EPERM"])])
    }

    @Test("a failing check, a missing table, a suspended endpoint and an error are each spelled out")
    func failing() {
        let text = StatusCommand.render(view(health: .init(status: "failing", checks: ["store": "ok", "firewall": "portald's nft table is missing"],
                                                           checkedAt: Date(timeIntervalSince1970: 1_800_000_000))),
                                        now: Date(timeIntervalSince1970: 1_800_000_030))
        #expect(text.hasPrefix("portald 0.1.0: running for 3 h 05 min (since 2027-01-15T08:00:00Z)\n"), "\(text)")
        #expect(text.contains("health: FAILING (checked 30 s ago)\n  firewall: portald's nft table is missing\n"))
        #expect(!text.contains("store: ok"))
        #expect(text.contains("firewall: table inet portald MISSING (the reconciler installs it again)"))
        #expect(text.contains("sessions: 3 online (arrival 1, terms 2)"))
        #expect(text.contains("crm       suspended  4        1     10 min ago"))
        #expect(text.contains("last reconcile: not yet"))
        #expect(text.contains("2027-01-15T08:00:00Z error: firewall apply failed; reconciling (change=authorize error=EPERM)"))
    }
}
