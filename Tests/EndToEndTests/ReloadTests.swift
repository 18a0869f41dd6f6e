import Foundation
import Testing
import Lab

/// `systemctl reload portald` (SIGHUP) on a real daemon in the lab: a guest stays online
/// throughout, events go to the new URL, and a broken file changes nothing.
@Suite("reload", .serialized)
struct ReloadTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    let upstream = "http://\(NetworkLab.upstreamIPv4)/"

    func endpoint(_ url: String) -> String {
        """

        [[webhooks.endpoints]]
        id = "cloud"
        url = "\(url)"
        secret = "\(Self.secret)"
        topics = ["wifi.session.started"]
        """
    }

    @Test("a changed endpoint, a new tier, a token and the log level apply; the guest never loses access; a broken file keeps the running config")
    func reloadKeepsGuestsOnline() throws {
        let lab = try NetworkLab()
        defer { lab.destroy() }
        try lab.startUpstreamWebServer()
        let first = try WebhookReceiver(secrets: [Self.secret], namespace: lab.upstream, host: NetworkLab.upstreamIPv4)
        let second = try WebhookReceiver(secrets: [Self.secret], namespace: lab.upstream, host: NetworkLab.upstreamIPv4)
        let portald = try Portald(lab: lab, extra: endpoint(first.url("/hooks", host: NetworkLab.upstreamIPv4)))
        try portald.start()
        defer { try? portald.stop() }

        // The guest logs in; its event goes to the first receiver.
        let guest = Guest(lab: lab)
        let splash = try guest.get("http://\(NetworkLab.gatewayLANIPv4):8080/")
        let online = try guest.post("http://\(NetworkLab.gatewayLANIPv4):8080/login/terms", form: [("csrf", try Guest.formToken(in: splash.body)), ("accept", "yes")])
        #expect(online.status == 200)
        _ = try first.waitFor("the login's event") { $0.count == 1 }
        #expect(try lab.guestCurl([upstream]).stdout.contains("upstream-ok"))

        // The guest keeps fetching, every 50 ms, through every reload.
        let fetches = portald.directory.appendingPathComponent("fetches.log").path
        let fetching = try lab.spawn(in: lab.guest, ["sh", "-c", "while true; do curl -s -o /dev/null -w '%{http_code}\\n' --max-time 2 \(upstream); sleep 0.05; done"],
                                     logTo: fetches)
        defer { fetching.terminate() }

        // New URL, a tier, a token, the log level; and the session length, which waits for a restart.
        let token = String(repeating: "r", count: 40)
        try portald.reload(1) { config in
            config.replacingOccurrences(of: first.url("/hooks", host: NetworkLab.upstreamIPv4), with: second.url("/hooks", host: NetworkLab.upstreamIPv4))
                .replacingOccurrences(of: "level = \"debug\"", with: "level = \"info\"")
                .replacingOccurrences(of: "session_minutes = 1440", with: "session_minutes = 60")
                .replacingOccurrences(of: "[admin]\nlisten = \"127.0.0.1:\(portald.adminPort)\"", with: """
                    [admin]
                    listen = "127.0.0.1:\(portald.adminPort)"

                    [[admin.tokens]]
                    name = "pms"
                    token = "\(token)"
                    scopes = ["clients:read"]
                    """)
                + """

                [[firewall.tiers]]
                name = "standard"
                down_kbps = 100000
                """
        }
        let log = portald.log
        #expect(log.contains("msg=\"configuration reloaded\"") && log.contains("endpoints_changed=cloud") && log.contains("log_level=info"),
                "\(log.suffix(3000))")
        #expect(log.contains("keys=\"[portal] session_minutes\""), "a key read at start only waits for a restart, and the log says so")
        #expect(!log.contains(Self.secret) && !log.contains(token))
        let table = try portald.run(["nft", "list", "table", "inet", "portald"]).stdout
        #expect(table.contains("tier_standard_down4"), "the table was installed again with the new tier's sets")
        #expect(table.contains("\(NetworkLab.guestMAC) . \(NetworkLab.guestIPv4)"), "the guest's element is in the new table")
        #expect(try lab.guestCurl([upstream]).stdout.contains("upstream-ok"))

        // The next event goes to the new URL only; the new token opens the API (on the running listener).
        try portald.cli(["auth", "02:00:00:00:00:21", "--ip", "192.0.2.21"])
        _ = try second.waitFor("the next event at the new URL") { $0.count == 1 }
        #expect(first.deliveries().count == 1)
        let clients = try portald.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)",
                                       "http://127.0.0.1:\(portald.adminPort)/api/v1/clients"]).stdout
        #expect(clients == "200")

        // A broken file: refused, named, and the running configuration stays (URL and token).
        let good = try String(contentsOfFile: portald.configPath, encoding: .utf8)
        try portald.reload(2) { config in config.replacingOccurrences(of: "[[firewall.tiers]]", with: "[[firewall.tiers]]\nspeed = 3") }
        try good.write(toFile: portald.configPath, atomically: true, encoding: .utf8)  // for the CLI, which reads it; no reload
        let refused = try #require(portald.log.split(separator: "\n").first { $0.contains("msg=\"reload refused; the running configuration is kept\"") })
        #expect(refused.contains("speed: unknown key"), "the error names the key: \(refused)")
        try portald.cli(["auth", "02:00:00:00:00:22", "--ip", "192.0.2.22"])
        _ = try second.waitFor("the event after the refused reload, still at the new URL") { $0.count == 2 }
        #expect(first.deliveries().count == 1)
        #expect(try portald.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)",
                                 "http://127.0.0.1:\(portald.adminPort)/api/v1/clients"]).stdout == "200")

        // Not one of the guest's fetches failed, across both reloads and the table's reinstall.
        fetching.terminate()
        let codes = try String(contentsOfFile: fetches, encoding: .utf8).split(separator: "\n")
        #expect(codes.count >= 5, "\(codes.count) fetches")
        #expect(codes.allSatisfy { $0 == "200" }, "fetches that failed: \(codes.filter { $0 != "200" })")
        // Nothing queued is lost: every event recorded is delivered.
        let stats = try portald.cli(["outbox", "stats", "--json"]).stdout
        #expect(stats.contains("\"pending\":0") || stats.contains("\"pending\": 0"), "\(stats)")
    }
}
