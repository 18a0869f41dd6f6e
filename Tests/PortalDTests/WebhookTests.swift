import Firewall
import Foundation
import GRDB
import Logging
import Testing
@testable import PortalD
@testable import Outbox
@testable import HTTPServer
import Store
import Crypto

@Suite("webhook signing, topics, retries and config")
struct WebhookTests {
    @Test("Standard Webhooks test vector")
    func standardWebhooksVector() throws {
        let secret = try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        let signature = WebhookSigner.standardSignature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330,
                                                        body: Array(#"{"test": 2432232314}"#.utf8), keys: [secret.key])
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test("X-Signature matches the GitHub-style vector")
    func bodySignatureVector() {
        #expect(WebhookSigner.bodySignature(body: Array("Hello, World!".utf8), key: Array("It's a Secret to Everybody".utf8))
            == "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
    }

    @Test("during a rotation both secrets sign; after the overlap only the new one")
    func rotation() throws {
        let new = try WebhookSecret("whsec_" + Data(repeating: 1, count: 24).base64EncodedString())
        let old = try WebhookSecret("whsec_" + Data(repeating: 2, count: 24).base64EncodedString(), validUntil: Date(timeIntervalSince1970: 2_000_000_000))
        let body = Array("{}".utf8)
        func headers(at seconds: TimeInterval) -> [String: String] {
            Dictionary(uniqueKeysWithValues: WebhookSigner.headers(id: "evt_1", timestamp: Date(timeIntervalSince1970: seconds), body: body, secrets: [new, old], userAgent: "portald/0.1.0"))
        }
        let during = headers(at: 1_999_999_000)
        #expect(during["webhook-signature"]?.split(separator: " ").count == 2)
        #expect(during["webhook-signature"]?.hasPrefix(WebhookSigner.standardSignature(id: "evt_1", timestamp: 1_999_999_000, body: body, keys: [new.key])) == true)
        let after = headers(at: 2_000_000_001)
        #expect(after["webhook-signature"]?.split(separator: " ").count == 1)
        #expect(after["webhook-timestamp"] == "2000000001")
        #expect(after["webhook-id"] == "evt_1")
        #expect(after["Idempotency-Key"] == "\"evt_1\"")
        #expect(after["Content-Type"] == "application/json")
        #expect(after["User-Agent"]?.hasPrefix("portald/") == true)
        #expect(after["X-Signature"] == WebhookSigner.bodySignature(body: body, key: new.key))
    }

    @Test func secretsMustBeWhsec() {
        #expect(throws: WebhookSecret.FormatError.self) { try WebhookSecret("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") }
        #expect(throws: WebhookSecret.FormatError.self) { try WebhookSecret("whsec_!!!") }
        #expect(throws: WebhookSecret.FormatError.self) { try WebhookSecret("whsec_c2hvcnQ=") }
    }

    @Test func topics() {
        #expect(TopicPattern.matches("*", "wifi.session.started"))
        #expect(TopicPattern.matches("wifi.*", "wifi.session.started"))
        #expect(TopicPattern.matches("wifi.session.*", "wifi.session.ended"))
        #expect(!TopicPattern.matches("wifi.*", "wifizz.x"))
        #expect(!TopicPattern.matches("wifi.*", "arrival.arrived"))
        #expect(TopicPattern.matches("arrival.arrived", "arrival.arrived"))
        #expect(!TopicPattern.matches("arrival.arrived", "arrival.arrived.late"))
        #expect(TopicPattern.isValid("wifi.*") && TopicPattern.isValid("*") && TopicPattern.isValid("arrival.terms_signed"))
        #expect(!TopicPattern.isValid("wifi.") && !TopicPattern.isValid("*.wifi") && !TopicPattern.isValid("") && !TopicPattern.isValid("a b"))
    }

    func outcome(_ status: Int?, retryAfter: String? = nil) -> HTTPOutcome {
        HTTPOutcome(statusCode: status, retryAfter: retryAfter, error: status == nil ? "connection refused" : nil, latency: .zero)
    }

    @Test func verdicts() {
        #expect(RetryPolicy.verdict(outcome(200)) == .delivered)
        #expect(RetryPolicy.verdict(outcome(204)) == .delivered)
        #expect(RetryPolicy.verdict(outcome(nil)) == .retry)
        for status in [408, 429, 500, 502, 503, 504] { #expect(RetryPolicy.verdict(outcome(status)) == .retry) }
        #expect(RetryPolicy.verdict(outcome(410)) == .gone)
        for status in [301, 302, 400, 401, 404, 422] { #expect(RetryPolicy.verdict(outcome(status)) == .permanent) }
        #expect(RetryPolicy.triesFallback(outcome(404)) && RetryPolicy.triesFallback(outcome(503)))
        #expect(!RetryPolicy.triesFallback(outcome(302)) && !RetryPolicy.triesFallback(outcome(nil)))
    }

    @Test func schedule() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let delays: [Duration] = [.seconds(60), .seconds(3600)]
        #expect(RetryPolicy.nextAttempt(after: 1, delays: delays, retryAfter: nil, now: now, jitter: 1) == now.addingTimeInterval(60))
        #expect(RetryPolicy.nextAttempt(after: 2, delays: delays, retryAfter: nil, now: now, jitter: 1.2) == now.addingTimeInterval(4320))
        #expect(RetryPolicy.nextAttempt(after: 3, delays: delays, retryAfter: nil, now: now) == nil)
        // Retry-After is honoured when it asks for more time than the schedule, capped at a day.
        #expect(RetryPolicy.nextAttempt(after: 1, delays: delays, retryAfter: "120", now: now, jitter: 1) == now.addingTimeInterval(120))
        #expect(RetryPolicy.nextAttempt(after: 1, delays: delays, retryAfter: "5", now: now, jitter: 1) == now.addingTimeInterval(60))
        #expect(RetryPolicy.nextAttempt(after: 1, delays: delays, retryAfter: "9999999", now: now, jitter: 1) == now.addingTimeInterval(86_400))
        #expect(RetryPolicy.parseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now: Date(timeIntervalSince1970: 1_445_412_400)) == 80)
        #expect(RetryPolicy.parseRetryAfter("soon", now: now) == nil)
    }

    @Test func durations() {
        #expect(DurationText.parse("30s") == .seconds(30))
        #expect(DurationText.parse("1h30m") == .seconds(5400))
        #expect(DurationText.parse("2d") == .seconds(172_800))
        #expect(DurationText.parse("30") == nil)
        #expect(DurationText.parse("5x") == nil)
        #expect(DurationText.parse("") == nil)
    }

    let base = """
    [site]
    id = "h"
    name = "H"
    [portal]
    listen = "127.0.0.1:8080"
    public_url = "http://127.0.0.1:8080/"
    [firewall]
    backend = "none"
    [store]
    path = "x.db"
    """

    func configError(_ webhooks: String) -> String {
        do {
            _ = try Config.parse(base + "\n" + webhooks, baseDirectory: "/tmp", environment: ["HOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
            return "no error"
        } catch { return "\(error)" }
    }

    @Test func webhookConfig() throws {
        let config = try Config.parse(base + """

            [webhooks]
            retry_delays = ["1s", "2m"]
            timeout_seconds = 5
            [[webhooks.endpoints]]
            id = "cloud"
            url = "https://hooks.example/portald"
            secret_env = "HOOK_SECRET"
            previous_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
            previous_secret_until = "2027-01-01T00:00:00Z"
            topics = ["wifi.*", "arrival.arrived"]
            fallback_url = "https://backup.example/portald"
            ordering = "none"
            """, baseDirectory: "/tmp", environment: ["HOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
        let endpoint = try #require(config.webhooks.endpoints.first)
        #expect(config.webhooks.delivery.retryDelays == [.seconds(1), .seconds(120)])
        #expect(config.webhooks.delivery.timeout == .seconds(5))
        #expect(endpoint.secrets.count == 2)
        #expect(endpoint.secrets[1].validUntil == RFC3339.date("2027-01-01T00:00:00Z"))
        #expect(endpoint.fallbackURL?.absoluteString == "https://backup.example/portald")
        #expect(endpoint.status == .active && endpoint.ordering == .none)

        let endpoint1 = "[[webhooks.endpoints]]\nid = \"a\"\nurl = \"http://x/\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\ntopics = [\"*\"]\n"
        #expect(configError(endpoint1 + endpoint1).contains("\"a\" is used by two endpoints"))
        #expect(configError(endpoint1.replacingOccurrences(of: "[\"*\"]", with: "[\"wifi.\"]")).contains("topics: \"wifi.\" is not a topic"))
        #expect(configError(endpoint1.replacingOccurrences(of: "whsec_MfKQ", with: "MfKQ")).contains("whsec_"))
        #expect(configError(endpoint1 + "status = \"paused\"\n").contains("status: \"paused\" is not one of"))
        #expect(configError(endpoint1 + "colour = 1\n").contains("[[webhooks.endpoints]] #1 colour: unknown key"))
        // A misspelt key is named as such, not reported as the required one it was meant to be.
        #expect(configError(endpoint1.replacingOccurrences(of: "topics =", with: "topic ="))
            .contains("[[webhooks.endpoints]] #1 topic: unknown key (did you mean topics?)"))
        // Errors after the id name the endpoint.
        #expect(configError(endpoint1.replacingOccurrences(of: "whsec_MfKQ", with: "MfKQ")).contains("[[webhooks.endpoints]] \"a\" secret:"))
        // A duration too large for any clock is named, not a crash.
        #expect(configError("[webhooks]\nretry_delays = [\"99999999999999999d\"]").contains("[webhooks] retry_delays: \"99999999999999999d\" is not a duration"))
        #expect(configError("[portl]\nlisten = 1").contains("[portl]: unknown section (did you mean [portal]?)"))
        #expect(configError(endpoint1 + "previous_secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n").contains("previous_secret_until: required"))
        #expect(configError("[webhooks]\nretry_delays = [\"soon\"]").contains("[webhooks] retry_delays: \"soon\" is not a duration"))
        #expect(configError(endpoint1.replacingOccurrences(of: "http://x/", with: "x")).contains("url: \"x\" is not an http(s) URL"))
    }
}

/// The outbox row and the state change are one transaction.
@Suite("transactional outbox")
struct OutboxTransactionTests {
    func endpoint(_ id: String, topics: [String], status: WebhookEndpoint.Status = .active) throws -> WebhookEndpoint {
        .init(id: id, url: URL(string: "http://127.0.0.1:9/")!, secrets: [try WebhookSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")],
              topics: topics, fallbackURL: nil, status: status, ordering: .ordered)
    }

    func counts(_ store: Store) throws -> (events: Int, deliveries: [String]) {
        try store.pool.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox_event") ?? 0,
             try String.fetchAll(db, sql: "SELECT endpoint_id || ':' || e.event FROM delivery d JOIN outbox_event e ON e.sequence = d.event_sequence ORDER BY d.event_sequence, endpoint_id"))
        }
    }

    @Test func sessionChangesRecordTheirEvents() throws {
        let (store, _) = try temporaryStore()
        let outbox = Outbox(siteID: "h", endpoints: [try endpoint("all", topics: ["*"]), try endpoint("arrivals", topics: ["arrival.*"]),
                                                     try endpoint("started", topics: ["wifi.session.started"]),
                                                     try endpoint("off", topics: ["*"], status: .inactive)])
        let sessions = SessionService(store: store, firewall: MemoryFirewall(), outbox: outbox, sessionMinutes: 60, logger: Logger(label: "t"))
        let mac = MACAddress("02:00:00:00:00:01")!
        let session = try sessions.login(mac: mac, ipv4: IPv4Address("192.0.2.5")!, method: .terms)
        try sessions.deauthorize(mac: mac)
        let (events, deliveries) = try counts(store)
        #expect(events == 2)
        #expect(deliveries == ["all:wifi.session.started", "started:wifi.session.started", "all:wifi.session.ended"])
        let body = try store.pool.read { try Data.fetchOne($0, sql: "SELECT body FROM outbox_event WHERE event = 'wifi.session.ended'") }
        let bytes = try #require(body)
        let envelope = try #require(try JSONSerialization.jsonObject(with: bytes) as? [String: Any])
        #expect(Set(envelope.keys) == ["id", "event", "created_at", "site_id", "data"])
        #expect(envelope["site_id"] as? String == "h")
        #expect((envelope["id"] as? String).flatMap(UUID.init(uuidString:)) != nil)
        let data = try #require(envelope["data"] as? [String: Any])
        #expect(data["session_id"] as? String == session.id)
        #expect(data["reason"] as? String == "deauthorized")
        #expect(data["duration_seconds"] is Int)
        #expect(data["subject"] is NSNull, "a terms login belongs to nobody in particular: subject is null")
    }

    @Test("a login the kernel refuses is still started once: it is the desired state the reconciler applies")
    func aRefusedApplyStillRecordsOneEvent() throws {
        let (store, _) = try temporaryStore()
        let outbox = Outbox(siteID: "h", endpoints: [try endpoint("all", topics: ["*"])])
        let firewall = FaultyFirewall()
        firewall.refusing = true
        let sessions = SessionService(store: store, firewall: firewall, outbox: outbox, sessionMinutes: 60, logger: Logger(label: "t"))
        let mac = MACAddress("02:00:00:00:00:01")!, ipv4 = IPv4Address("192.0.2.5")!
        #expect(throws: SessionError.self) { try sessions.login(mac: mac, ipv4: ipv4, method: .terms) }
        firewall.refusing = false
        try sessions.login(mac: mac, ipv4: ipv4, method: .terms)  // kept, and applied by the reconciler first
        #expect(try counts(store).events == 1)
        #expect(firewall.memory.devices.map(\.mac) == [mac])
    }
}
