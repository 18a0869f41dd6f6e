import Foundation
import Testing
import Lab

/// `portald status`, on a real daemon: what IT sees first when a guest calls.
@Suite("portald status", .serialized)
struct StatusTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    @Test("running: version, uptime, config file, listeners, sessions by method, the backlog and its age, recent warnings; stopped: exit 3")
    func runningAndStopped() throws {
        // The receiver fails every delivery: a backlog that ages, and a warning in the log.
        let receiver = try WebhookReceiver(secrets: [Self.secret], plan: ["/hooks": [500]])
        let portald = try Portald.loopback(extra: """
            [webhooks]
            retry_delays = ["1h"]

            [[webhooks.endpoints]]
            id = "cloud"
            url = "\(receiver.url("/hooks"))"
            secret = "\(Self.secret)"
            topics = ["wifi.*"]
            """)
        try portald.start()
        var stopped = false
        defer { if !stopped { try? portald.stop() } }
        try portald.cli(["auth", "02:00:00:00:00:01", "--ip", "192.0.2.10"])
        try portald.cli(["auth", "02:00:00:00:00:02", "--ip", "192.0.2.11"])
        _ = try receiver.waitFor("the first attempt") { $0.count >= 1 }  // ordered: the second waits behind it

        var json: [String: Any] = [:]
        try waitUntil("the failed attempts are logged and the health checked") {
            let answer = try portald.cli(["status", "--json"])
            json = try #require(try JSONSerialization.jsonObject(with: Data(answer.stdout.utf8)) as? [String: Any])
            let errors = json["recent_errors"] as? [[String: Any]] ?? []
            return (json["health"] as? [String: Any])?["status"] as? String == "ok"
                && errors.contains { $0["message"] as? String == "webhook attempt failed" }
        }
        #expect(json["running"] as? Bool == true)
        #expect((json["version"] as? String)?.hasPrefix("0.") == true)
        #expect(json["config_file"] as? String == URL(fileURLWithPath: portald.configPath).standardizedFileURL.path)
        #expect((json["uptime_seconds"] as? Int).map { $0 >= 0 && $0 < 120 } == true)
        let listeners = json["listeners"] as? [[String: String]] ?? []
        #expect(listeners.contains { $0["name"] == "admin" && $0["address"] == "127.0.0.1:\(portald.adminPort)" }, "\(listeners)")
        #expect(listeners.contains { $0["name"] == "portal" })
        let sessions = json["sessions"] as? [String: Any]
        #expect(sessions?["total"] as? Int == 2 && (sessions?["by_method"] as? [String: Int])?["admin"] == 2 && (sessions?["by_method"] as? [String: Int])?["terms"] == 0)
        let endpoint = (json["outbox"] as? [[String: Any]])?.first
        #expect(endpoint?["id"] as? String == "cloud" && endpoint?["pending"] as? Int == 2 && endpoint?["dead"] as? Int == 0, "\(String(describing: endpoint))")
        #expect((endpoint?["oldest_pending_age_seconds"] as? Int).map { $0 >= 0 } == true && endpoint?["oldest_pending_at"] is String)
        #expect((json["last_reconcile"] as? [String: Any])?["cause"] as? String == "start")
        #expect((json["firewall"] as? [String: Any])?["backend"] as? String == "none")
        let text = try portald.cli(["status"]).stdout

        #expect(text.hasPrefix("portald 0."), "\(text)")
        #expect(text.contains("config: \(URL(fileURLWithPath: portald.configPath).standardizedFileURL.path), site lab-hotel (Lab Hotel)"))
        #expect(text.contains("listening: portal 127.0.0.1:") && text.contains("admin 127.0.0.1:\(portald.adminPort)"))
        #expect(text.contains("health: ok (checked "))
        #expect(text.contains("sessions: 2 online (admin 2)"))
        #expect(text.contains("ENDPOINT  STATUS  PENDING  DEAD  OLDEST PENDING"))
        #expect(text.contains("cloud     active  2        0     "))
        #expect(text.contains("recent warnings and errors (newest last):") && text.contains("warning: webhook attempt failed"))

        try portald.stop()
        stopped = true
        let down = try portald.cli(["status"], check: false)
        #expect(down.status == 3, "\(down.stdout)\(down.stderr)")
        #expect(down.stdout.hasPrefix("portald is not running: nothing answers at http://127.0.0.1:\(portald.adminPort)"), "\(down.stdout)")
        let downJSON = try portald.cli(["status", "--json"], check: false)
        #expect(downJSON.status == 3)
        let parsed = try JSONSerialization.jsonObject(with: Data(downJSON.stdout.utf8)) as? [String: Any]
        #expect(parsed?["running"] as? Bool == false && parsed?["admin"] as? String == "http://127.0.0.1:\(portald.adminPort)")
    }

    @Test("from a shell without the service's secrets (set by its EnvironmentFile=): status and clients work; check-config names what it cannot read")
    func controlVerbsWithoutTheServicesSecrets() throws {
        let portald = try Portald.loopback(admin: """
            [[admin.tokens]]
            name = "pms"
            token_env = "PORTALD_PMS_TOKEN"
            scopes = ["clients:read"]
            """, extra: """
            [[webhooks.endpoints]]
            id = "cloud"
            url = "http://127.0.0.1:9/hooks"
            secret_env = "PORTALD_CLOUD_SECRET"
            topics = ["wifi.*"]
            """)
        let token = String(repeating: "k", count: 40)
        // The daemon gets them, as systemd's EnvironmentFile= gives them; the CLI below runs without.
        try portald.start(environment: ["PORTALD_PMS_TOKEN": token, "PORTALD_CLOUD_SECRET": Self.secret])
        defer { try? portald.stop() }
        try portald.cli(["auth", "02:00:00:00:00:01", "--ip", "192.0.2.10"])
        let status = try portald.cli(["status"], check: false)
        #expect(status.status == 0, "\(status.stdout)\(status.stderr)")
        #expect(status.stdout.contains("sessions: 1 online (admin 1)"), "\(status.stdout)")
        #expect(try portald.cli(["clients"]).stdout.contains("02:00:00:00:00:01"))
        // The daemon read the real token: it opens the API.
        let clients = try Shell.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(token)",
                                     "http://127.0.0.1:\(portald.adminPort)/api/v1/clients"]).stdout
        #expect(clients == "200")
        // check-config reads every secret, as the daemon must: here it names the one it cannot.
        let check = try portald.cli(["check-config"], check: false)
        #expect(check.status == 1 && check.stderr.contains("[[webhooks.endpoints]] \"cloud\" secret_env: environment variable PORTALD_CLOUD_SECRET is not set"), "\(check.stderr)")
    }
}

