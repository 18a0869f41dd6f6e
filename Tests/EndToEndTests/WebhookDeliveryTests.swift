import Foundation
import Testing
import Lab

/// Real deliveries from the real daemon to a receiver on loopback that checks every
/// signature with the independent `standardwebhooks` package.
@Suite("webhook deliveries", .serialized)
struct WebhookDeliveryTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    func endpoint(_ id: String, _ url: String, topics: [String] = ["*"], extra: String = "") -> String {
        """

        [[webhooks.endpoints]]
        id = "\(id)"
        url = "\(url)"
        secret = "\(Self.secret)"
        topics = [\(topics.map { "\"\($0)\"" }.joined(separator: ", "))]
        \(extra)
        """
    }

    func start(_ webhooks: String) throws -> Portald {
        let portald = try Portald.loopback(extra: webhooks)
        try portald.start()
        return portald
    }

    /// A session started through the admin API; returns its id.
    @discardableResult
    func login(_ portald: Portald, _ n: Int) throws -> String {
        let mac = String(format: "02:00:00:00:%02x:%02x", n / 256, n % 256)
        let answer = try portald.cli(["auth", mac, "--ip", "192.0.2.\(n % 250 + 2)", "--json"]).stdout
        let json = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any]
        return try #require(json?["session_id"] as? String)
    }

    @Test("signed deliveries verify independently, with the headers integrators expect")
    func signedDeliveries() throws {
        let receiver = try WebhookReceiver(secrets: [Self.secret])
        let portald = try start(endpoint("cloud", receiver.url("/hooks"), topics: ["wifi.*"]))
        defer { try? portald.stop() }
        let sessionID = try login(portald, 1)
        _ = try portald.cli(["deauth", "02:00:00:00:00:01"])
        let received = try receiver.waitFor("started and ended") { $0.count >= 2 }
        #expect(received.map(\.event) == ["wifi.session.started", "wifi.session.ended"])
        for delivery in received {
            #expect(delivery.verified, "standardwebhooks rejected \(delivery.id ?? "")")
            #expect(delivery.xSignatureOk)
            #expect(delivery.webhookID == delivery.id)
            #expect(delivery.idempotencyKey == "\"\(delivery.id ?? "")\"")
            #expect(delivery.contentType == "application/json")
            #expect(delivery.userAgent?.hasPrefix("portald/") == true)
            #expect(delivery.siteID == "lab-hotel")
            #expect(delivery.data?["session_id"]?.string == sessionID)
            #expect(delivery.data?["mac"]?.string == "02:00:00:00:00:01")
        }
        #expect(received[1].data?["reason"]?.string == "deauthorized")
        #expect(received[1].data?["duration_seconds"] != nil)

        let test = try portald.cli(["webhooks", "test", "cloud"])
        #expect(test.stdout.contains("delivered to cloud: HTTP 204"))
        let all = try receiver.waitFor("webhook.test") { $0.count >= 3 }
        #expect(all.last?.event == "webhook.test" && all.last?.verified == true)
        let unknown = try portald.cli(["webhooks", "test", "nope"], check: false)
        #expect(unknown.status == 1 && unknown.stderr.contains("no webhook endpoint \"nope\" (configured: cloud)"))
    }

    @Test("a 500 is retried with the same id and a new timestamp, then delivered")
    func retries() throws {
        let receiver = try WebhookReceiver(secrets: [Self.secret], plan: ["/flaky": [500, 200]])
        let portald = try start("[webhooks]\nretry_delays = [\"2s\", \"2s\"]\n" + endpoint("cloud", receiver.url("/flaky"), topics: ["wifi.session.started"]))
        defer { try? portald.stop() }
        try login(portald, 1)
        let received = try receiver.waitFor("two attempts") { $0.count >= 2 }
        #expect(received.map(\.status) == [500, 200])
        #expect(received[0].webhookID == received[1].webhookID)
        #expect(received[0].webhookTimestamp != received[1].webhookTimestamp)
        #expect(received.allSatisfy { $0.verified })
        let id = try #require(received[0].id)
        try waitUntil("delivered") { () throws -> Bool in try portald.cli(["outbox", "show", id]).stdout.contains("cloud: delivered after 2 attempt(s)") }
        let shown = try portald.cli(["outbox", "show", id, "--json"]).stdout
        #expect(shown.contains(#""status_code":500"#) && shown.contains(#""status_code":200"#))
    }

    @Test("410 Gone suspends the endpoint until it is resumed; nothing is lost")
    func goneSuspends() throws {
        let receiver = try WebhookReceiver(secrets: [Self.secret], plan: ["/gone": [410, 204]])
        let portald = try start(endpoint("cloud", receiver.url("/gone"), topics: ["wifi.session.started"]))
        defer { try? portald.stop() }
        try login(portald, 1)
        try receiver.waitFor("the 410") { $0.count == 1 }
        try waitUntil("suspended") { () throws -> Bool in try portald.cli(["outbox", "stats", "--json"]).stdout.contains(#""status":"suspended""#) }
        try login(portald, 2)
        usleep(1_500_000)
        #expect(receiver.deliveries().count == 1, "a suspended endpoint was sent to")
        #expect(try portald.cli(["webhooks", "resume", "cloud"]).stdout.contains("cloud: resumed"))
        let received = try receiver.waitFor("both events after resume") { $0.count == 3 }
        #expect(received[1].id == received[0].id, "the 410'd event goes first after resume")
        #expect(received.map(\.status) == [410, 204, 204])
    }

    @Test("a 4xx from the main URL goes to the fallback URL")
    func fallback() throws {
        let receiver = try WebhookReceiver(secrets: [Self.secret], plan: ["/main": [404]])
        let portald = try start(endpoint("cloud", receiver.url("/main"), topics: ["wifi.session.started"],
                                         extra: "fallback_url = \"\(receiver.url("/fallback"))\""))
        defer { try? portald.stop() }
        try login(portald, 1)
        let received = try receiver.waitFor("main then fallback") { $0.count >= 2 }
        #expect(received.map(\.path) == ["/main", "/fallback"])
        #expect(received[1].verified && received[1].id == received[0].id)
        try waitUntil("delivered") { () throws -> Bool in try portald.cli(["outbox", "stats", "--json"]).stdout.contains(#""delivered":1"#) }
    }

    @Test("a failing event holds back later ones; order is kept")
    func orderKept() throws {
        let receiver = try WebhookReceiver(secrets: [Self.secret], plan: ["/ordered": [500, 503, 204]])
        let portald = try start("[webhooks]\nretry_delays = [\"1s\", \"1s\", \"1s\"]\n" + endpoint("cloud", receiver.url("/ordered"), topics: ["wifi.session.started"]))
        defer { try? portald.stop() }
        let sessions = try (1...3).map { try login(portald, $0) }
        let received = try receiver.waitFor("all three delivered") { $0.filter { $0.status == 204 }.count == 3 }
        #expect(received.map(\.status) == [500, 503, 204, 204, 204])
        #expect(received.compactMap { $0.data?["session_id"]?.string } == [sessions[0], sessions[0], sessions[0], sessions[1], sessions[2]])
    }

    @Test("topics with wildcards, inactive endpoints, dead letters and replay")
    func topicsDeadAndReplay() throws {
        let receiver = try WebhookReceiver(secrets: [Self.secret], plan: ["/dead": [400, 204]])
        let portald = try start(
            endpoint("started", receiver.url("/started"), topics: ["wifi.session.started"])
            + endpoint("arrivals", receiver.url("/arrivals"), topics: ["arrival.*"])
            + endpoint("off", receiver.url("/off"), extra: "status = \"inactive\"")
            + endpoint("ended", receiver.url("/dead"), topics: ["wifi.session.ended"]))
        defer { try? portald.stop() }
        try login(portald, 1)
        _ = try portald.cli(["deauth", "02:00:00:00:00:01"])
        try receiver.waitFor("started and the refused ended") { $0.count >= 2 }
        try waitUntil("dead letter") { () throws -> Bool in try portald.cli(["outbox", "list", "--status", "dead"]).stdout.contains("wifi.session.ended") }
        usleep(500_000)
        let paths = receiver.deliveries().map(\.path).sorted()
        #expect(paths == ["/dead", "/started"])
        let stats = try portald.cli(["outbox", "stats", "--json"]).stdout
        #expect(stats.contains(#"{"dead":0,"delivered":0,"id":"off","pending":0,"status":"inactive"}"#), "\(stats)")
        #expect(stats.contains(#"{"dead":0,"delivered":0,"id":"arrivals","pending":0,"status":"active"}"#), "\(stats)")
        #expect(try portald.cli(["outbox", "replay", "--dead"]).stdout.contains("1 delivery queued again"))
        let replayed = try receiver.waitFor("the replay") { $0.filter { $0.path == "/dead" }.count == 2 }.filter { $0.path == "/dead" }
        #expect(replayed.map(\.status) == [400, 204])
        #expect(replayed[0].id == replayed[1].id)
        let bad = try portald.cli(["outbox", "replay", "evt_nope"], check: false)
        #expect(bad.status == 1 && bad.stderr.contains("no event evt_nope"))
    }

    @Test("redirects are not followed, slow receivers time out, untrusted TLS is refused")
    func transportFailures() throws {
        let receiver = try WebhookReceiver(secrets: [Self.secret], plan: [
            "/moved": [["status": 302, "location": "/elsewhere"]],
            "/slow": [["status": 204, "sleep_ms": 2500], 204],
        ])
        let tls = try WebhookReceiver(secrets: [Self.secret], selfSignedTLS: true)
        let portald = try start("[webhooks]\ntimeout_seconds = 1\nretry_delays = [\"2s\", \"2s\"]\n"
            + endpoint("moved", receiver.url("/moved"), topics: ["wifi.session.started"])
            + endpoint("slow", receiver.url("/slow"), topics: ["wifi.session.started"])
            + endpoint("tls", tls.url("/hooks"), topics: ["wifi.session.started"]))
        defer { try? portald.stop() }
        try login(portald, 1)
        let received = try receiver.waitFor("the redirect and both slow attempts") { $0.filter { $0.path == "/slow" }.count >= 2 }
        #expect(!received.contains { $0.path == "/elsewhere" }, "a redirect was followed")
        let event = try #require(received.first?.id)
        try waitUntil("settled") { () throws -> Bool in
            let shown = try portald.cli(["outbox", "show", event]).stdout
            return shown.contains("moved: dead after 1 attempt(s), last error: HTTP 302") && shown.contains("slow: delivered after 2 attempt(s)")
                && shown.contains("TLS failed")
        }
        let shown = try portald.cli(["outbox", "show", event, "--json"]).stdout
        #expect(shown.contains(#""error":"timed out""#), "\(shown)")
        #expect(shown.contains("TLS failed"), "\(shown)")
        #expect(tls.deliveries().isEmpty, "a body went to an untrusted TLS server")
    }
}
