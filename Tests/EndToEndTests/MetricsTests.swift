import Foundation
import Testing
import Lab

/// `/metrics` from the real daemon in the lab (real nftables, a real guest, a real
/// webhook receiver), read back by the independent `prometheus_client` parser and
/// checked by `promtool check metrics`.
@Suite("Prometheus metrics", .serialized)
struct MetricsTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    let upstream = "http://\(NetworkLab.upstreamIPv4)/"

    func scrape(_ portald: Portald, token: String? = nil) throws -> (status: String, scrape: MetricsScrape?) {
        var curl = ["curl", "-s", "-o", "/dev/stderr", "-w", "%{http_code} %{content_type}", "http://127.0.0.1:\(portald.adminPort)/metrics"]
        if let token { curl += ["-H", "Authorization: Bearer \(token)"] }
        let result = try portald.run(curl)
        return (result.stdout, result.stdout.hasPrefix("200 ") ? try MetricsScrape(text: result.stderr) : nil)
    }

    @Test("the exposition parses independently and moves with a captured request, a login, a delivery and a repair; counters never go down")
    func metricsMove() throws {
        let lab = try NetworkLab()
        defer { lab.destroy() }
        try lab.startUpstreamWebServer()
        let receiver = try WebhookReceiver(secrets: [Self.secret], namespace: lab.upstream, host: NetworkLab.upstreamIPv4)
        let portald = try Portald(lab: lab, firewall: "reconcile_seconds = 1", extra: """
            [[webhooks.endpoints]]
            id = "cloud"
            url = "\(receiver.url("/hooks", host: NetworkLab.upstreamIPv4))"
            secret = "\(Self.secret)"
            topics = ["wifi.session.started"]
            """)
        try portald.start()
        defer { try? portald.stop() }

        let (status, first) = try scrape(portald)
        #expect(status == "200 text/plain; version=0.0.4; charset=utf-8")
        let before = try #require(first)
        if let problems = try before.promtoolProblems() { Issue.record("promtool check metrics: \(problems)") }
        // CI installs promtool (scripts/install-deps): there, its check must have run.
        #expect(ProcessInfo.processInfo.environment["CI"] != "true" || MetricsScrape.promtool != nil, "CI without promtool")
        #expect(before.samples.first { $0.key.hasPrefix("portald_build_info{") && $0.key.contains("version=\"0.") }?.value == 1)
        #expect(before["portald_sessions_active{method=\"terms\",tier=\"none\"}"] == 0)
        #expect(before["portald_logins_total{method=\"terms\",result=\"started\"}"] == 0)
        #expect(before["portald_firewall_apply_duration_seconds_count{operation=\"install\"}"] == 1, "the install at start")
        #expect(before["portald_outbox_deliveries{endpoint=\"cloud\",status=\"pending\"}"] == 0)
        #expect(before["portald_outbox_oldest_pending_age_seconds{endpoint=\"cloud\"}"] == 0)
        #expect((before["process_resident_memory_bytes"] ?? 0) > 1_000_000)
        #expect((before["process_open_fds"] ?? 0) > 3 && (before["process_max_fds"] ?? 0) >= (before["process_open_fds"] ?? 0))
        let started = try #require(before["process_start_time_seconds"])
        #expect(abs(started - Date().timeIntervalSince1970) < 120, "start time \(started)")
        #expect(before.types["portald_http_request_duration_seconds"] == "histogram")
        #expect(before.types["portald_logins"] == "counter")  // prometheus_client names counter families without _total

        // A guest is captured, then logs in; the login's event is delivered.
        let guest = Guest(lab: lab)
        #expect(try guest.get(upstream).status == 302)
        let splash = try guest.get("http://\(NetworkLab.gatewayLANIPv4):8080/")
        let online = try guest.post("http://\(NetworkLab.gatewayLANIPv4):8080/login/terms",
                                    form: [("csrf", try Guest.formToken(in: splash.body)), ("accept", "yes")])
        #expect(online.status == 200)
        // `portald status` sees the real table and the session.
        let shown = try JSONSerialization.jsonObject(with: Data(try portald.cli(["status", "--json"]).stdout.utf8)) as? [String: Any]
        #expect((shown?["firewall"] as? [String: Any])?["installed"] as? Bool == true, "\(String(describing: shown))")
        #expect((shown?["sessions"] as? [String: Any])?["total"] as? Int == 1)
        _ = try receiver.waitFor("the session's start") { $0.count >= 1 }
        var after = before
        try waitUntil("the delivery is recorded") {
            after = try #require(try scrape(portald).scrape)
            return after["portald_outbox_deliveries{endpoint=\"cloud\",status=\"delivered\"}"] == 1
        }
        #expect((after["portald_captured_redirects_total"] ?? 0) >= 1)
        #expect((after["portald_http_requests_total{listener=\"portal\",route=\"(captured)\",status=\"302\"}"] ?? 0) >= 1)
        #expect(after["portald_http_requests_total{listener=\"portal\",route=\"/login/terms\",status=\"200\"}"] == 1)
        #expect(after["portald_http_request_duration_seconds_count{listener=\"portal\",route=\"/login/terms\"}"] == 1)
        #expect(after["portald_logins_total{method=\"terms\",result=\"started\"}"] == 1)
        #expect(after["portald_sessions_active{method=\"terms\",tier=\"none\"}"] == 1)
        #expect((after["portald_firewall_apply_duration_seconds_count{operation=\"update\"}"] ?? 0) >= 1)
        #expect(after["portald_webhook_attempts_total{endpoint=\"cloud\",outcome=\"delivered\"}"] == 1)
        #expect(after["portald_webhook_delivery_duration_seconds_count{endpoint=\"cloud\"}"] == 1)
        #expect(after["portald_webhook_deliveries_settled_total{endpoint=\"cloud\",status=\"delivered\"}"] == 1)
        #expect(after["portald_outbox_deliveries{endpoint=\"cloud\",status=\"pending\"}"] == 0)
        #expect((after["portald_http_requests_total{listener=\"admin\",route=\"/metrics\",status=\"200\"}"] ?? 0) >= 1)

        // The Grafana dashboard in contrib/ plots only metrics portald exports, in queries promtool parses.
        let dashboard = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../contrib/grafana-dashboard.json").standardized, encoding: .utf8)
        let used = Set(dashboard.matches(of: /(portald|process)_[a-z_]+/).map { String($0.output.0) })
        #expect(used.count >= 20, "\(used.sorted())")
        for name in used {
            #expect(after.samples.keys.contains { $0 == name || $0.hasPrefix(name + "{") }, "the dashboard plots \(name), which /metrics does not export")
        }
        if let promtool = MetricsScrape.promtool {
            try checkQueries(of: dashboard, with: promtool, in: portald.directory)
        }

        // Someone deletes the guest's element: the reconciler puts it back, and says so.
        try portald.run(["nft", "flush", "set", "inet", "portald", "authorized"])
        try waitUntil("the repair is counted") {
            after = try #require(try scrape(portald).scrape)
            return (after["portald_firewall_repairs_total{kind=\"added\"}"] ?? 0) >= 1
        }
        if let problems = try after.promtoolProblems() { Issue.record("promtool check metrics: \(problems)") }
        // Counters (and histogram counts) never go down between scrapes.
        for (key, value) in before.samples where key.contains("_total") || key.contains("_count{") || key.contains("_bucket{") {
            #expect((after[key] ?? -1) >= value, "\(key) went from \(value) to \(String(describing: after[key]))")
        }
    }

    /// Every `expr` of the dashboard as a recording rule, with its variables filled in,
    /// through `promtool check rules`: Prometheus' own PromQL parser.
    func checkQueries(of dashboard: String, with promtool: String, in directory: URL) throws {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(dashboard.utf8)) as? [String: Any])
        var expressions: [String] = []
        for panel in json["panels"] as? [[String: Any]] ?? [] {
            for target in panel["targets"] as? [[String: Any]] ?? [] { if let expr = target["expr"] as? String { expressions.append(expr) } }
        }
        #expect(expressions.count >= 20)
        let rules = "groups:\n- name: dashboard\n  rules:\n" + expressions.enumerated().map { index, expr in
            let filled = expr.replacingOccurrences(of: "$job", with: ".*").replacingOccurrences(of: "$instance", with: ".*")
            return "  - record: dashboard:query\(index)\n    expr: '\(filled.replacingOccurrences(of: "'", with: "''"))'\n"
        }.joined()
        let file = directory.appendingPathComponent("dashboard-rules.yml")
        try Data(rules.utf8).write(to: file)
        let checked = try Shell.run([promtool, "check", "rules", file.path], check: false)
        #expect(checked.status == 0, "promtool check rules on the dashboard's queries: \(checked.stdout)\(checked.stderr)")
    }

    @Test("`[admin] metrics_token = true`: /metrics needs a token with metrics:read")
    func metricsToken() throws {
        let reader = String(repeating: "m", count: 40), other = String(repeating: "o", count: 40)
        let portald = try Portald.loopback(admin: """
            metrics_token = true

            [[admin.tokens]]
            name = "prometheus"
            token = "\(reader)"
            scopes = ["metrics:read"]

            [[admin.tokens]]
            name = "dashboard"
            token = "\(other)"
            scopes = ["clients:read"]
            """)
        try portald.start()
        defer { try? portald.stop() }
        #expect(try scrape(portald).status.hasPrefix("401 "))
        #expect(try scrape(portald, token: other).status.hasPrefix("403 "))
        let allowed = try scrape(portald, token: reader)
        #expect(allowed.status.hasPrefix("200 ") && allowed.scrape?["portald_captured_redirects_total"] != nil)
    }
}
