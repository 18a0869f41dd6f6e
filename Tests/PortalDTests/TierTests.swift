import Firewall
import Foundation
import Logging
import Testing
@testable import HTTPServer
@testable import PortalD

/// Tiers: their configuration, the tier a session gets, and the quota and idle limits.
@Suite("tiers, quotas and idle timeouts")
struct TierTests {
    let phone = MACAddress("02:00:00:00:00:10")!
    let ipv4 = IPv4Address("192.0.2.10")!

    @Test("[[firewall.tiers]]: rates, quota and idle, each bad value named; [portal] tier and [arrivals] wifi_tier must name one")
    func config() throws {
        let base = gatewayConfig(portal: #"tier = "standard""#, sections: """
            [[firewall.tiers]]
            name = "standard"
            down_kbps = 2000
            up_kbps = 500
            quota_mb = 500
            idle_minutes = 30
            [[firewall.tiers]]
            name = "premium"

            """)
        let config = try Config.parse(base, baseDirectory: "/etc/portald")
        #expect(config.portal.tier == "standard" && config.arrivals.wifiTier == "standard")
        let standard = try #require(config.firewall.tiers.first)
        #expect(standard.bandwidth == BandwidthTier(name: "standard", downBytesPerSecond: 250_000, upBytesPerSecond: 62_500))
        #expect(standard.quotaBytes == 500_000_000 && standard.idleMinutes == 30)
        #expect(config.firewall.tiers[1].bandwidth == nil)
        #expect(configError(base.replacingOccurrences(of: "tier = \"standard\"", with: "tier = \"gold\"")).contains("[portal] tier: no [[firewall.tiers]] is named \"gold\" (there are: standard, premium)"))
        #expect(configError(base + "[arrivals]\nwifi_tier = \"gold\"\n").contains("[arrivals] wifi_tier: no [[firewall.tiers]] is named \"gold\""))
        #expect(configError(base.replacingOccurrences(of: "name = \"premium\"", with: "name = \"standard\"")).contains("another tier is named \"standard\""))
        #expect(configError(base.replacingOccurrences(of: "name = \"premium\"", with: "name = \"Premium Plus\"")).contains("[[firewall.tiers]] #2 name"))
        #expect(configError(base.replacingOccurrences(of: "down_kbps = 2000", with: "down_kbps = 10")).contains("down_kbps: 10 is out of range"))
        #expect(configError(base.replacingOccurrences(of: "idle_minutes = 30", with: "idle = 30")).contains("idle"))
    }

    @Test("a session gets [portal] tier unless the login names one; another tier replaces it")
    func sessionTier() throws {
        let (store, _) = try temporaryStore()
        let firewall = MemoryFirewall()
        let sessions = SessionService(store: store, firewall: firewall, sessionMinutes: 60, defaultTier: "standard", logger: Logger(label: "t"))
        let first = try sessions.login(mac: phone, ipv4: ipv4, method: .terms)
        #expect(first.tier == "standard" && firewall.devices.first?.tier == "standard")
        let premium = try sessions.login(mac: phone, ipv4: ipv4, method: .terms, tier: .some("premium"))
        #expect(premium.id != first.id && premium.tier == "premium" && firewall.devices.map(\.tier) == ["premium"])
        #expect(try sessions.session(id: premium.id)?.tier == "premium")
    }

    @Test("staff auth over the API: a tier, no tier, or the default; an IPv6 address given or found; each bad field named")
    func staffAuth() throws {
        let (store, _) = try temporaryStore()
        let firewall = MemoryFirewall()
        let sessions = SessionService(store: store, firewall: firewall, sessionMinutes: 60, defaultTier: "standard", logger: Logger(label: "t"))
        let tablet = MACAddress("02:00:00:00:00:11")!
        let laptop = MACAddress("02:00:00:00:00:15")!, idle = MACAddress("02:00:00:00:00:16")!
        let neighbours = StaticNeighbours([Neighbour(address: IPAddress("fe80::11")!, mac: tablet),
                                           Neighbour(address: IPAddress("2001:db8:1::11")!, mac: tablet),
                                           // An old lease's stale IPv4 entry, and the address the laptop uses now.
                                           Neighbour(address: IPAddress("192.0.2.15")!, mac: laptop, confirmed: false),
                                           Neighbour(address: IPAddress("2001:db8:1::15")!, mac: laptop),
                                           Neighbour(address: IPAddress("192.0.2.16")!, mac: idle, confirmed: false)])
        let api = try makeAdminAPI(store: store, credentials: [AdminCredential(name: "it", secret: Array("secret-token".utf8), scopes: [AdminScope.all])],
                                   clients: SessionClientRepository(sessions: sessions, neighbours: neighbours, tiers: ["standard", "premium"]))
        func auth(_ mac: String, _ body: String) -> (status: Int, json: [String: Any]) {
            let response = api.answer(HTTPRequest(method: .post, target: "/api/v1/clients/\(mac)/auth", headers: HTTPHeaders([("Authorization", "Bearer secret-token")]),
                                                  body: Array(body.utf8), clientAddress: "127.0.0.1"))
            return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:])
        }
        #expect(auth("02:00:00:00:00:10", #"{"ipv4": "192.0.2.10"}"#).json["tier"] as? String == "standard")
        #expect(auth("02:00:00:00:00:10", #"{"ipv4": "192.0.2.10", "tier": "premium"}"#).json["tier"] as? String == "premium")
        let untiered = auth("02:00:00:00:00:10", #"{"ipv4": "192.0.2.10", "tier": null}"#)
        #expect(untiered.status == 201 && untiered.json["tier"] is NSNull && firewall.devices.map(\.tier) == [nil])
        // A device seen only over IPv6: its global address from the neighbour table, never the link-local one.
        let found = auth("02:00:00:00:00:11", "")
        #expect(found.status == 201 && found.json["ipv4"] is NSNull && found.json["ipv6"] as? [String] == ["2001:db8:1::11"], "\(found)")
        #expect(auth("02:00:00:00:00:15", "").json["ipv6"] as? [String] == ["2001:db8:1::15"], "a confirmed IPv6 entry before a stale IPv4 one")
        #expect(auth("02:00:00:00:00:16", "").json["ipv4"] as? String == "192.0.2.16", "only a stale entry: that one")
        let given = auth("02:00:00:00:00:12", #"{"ipv6": "2001:db8:1::12", "minutes": 5}"#)
        #expect(given.status == 201 && given.json["ipv6"] as? [String] == ["2001:db8:1::12"])
        func code(_ response: (status: Int, json: [String: Any])) -> String? { (response.json["error"] as? [String: Any])?["code"] as? String }
        for (body, expected) in [(#"{"ipv4": "192.0.2.13", "ipv6": "2001:db8:1::13"}"#, "invalid_address"),
                                 (#"{"ipv6": "fe80::13"}"#, "invalid_ipv6"), (#"{"ipv6": "::ffff:192.0.2.13"}"#, "invalid_ipv6"), (#"{"ipv6": "ff02::1"}"#, "invalid_ipv6"),
                                 (#"{"ipv6": "192.0.2.13"}"#, "invalid_ipv6"), (#"{"ipv6": "4000::13"}"#, "invalid_ipv6"),
                                 (#"{"ipv6": "2001:db8::192.0.2.13"}"#, "invalid_ipv6"), (#"{"ipv6": "fec0::13"}"#, "invalid_ipv6"), (#"{"ipv4": null}"#, "invalid_ipv4"), (#"{"tier": 5}"#, "invalid_json"),
                                 (#"{"minutes": 0}"#, "invalid_minutes"), (#"{"address": "192.0.2.13"}"#, "unknown_field")] {
            let response = auth("02:00:00:00:00:13", body)
            #expect(response.status == 400 && code(response) == expected, "\(body): \(response)")
        }
        let gold = auth("02:00:00:00:00:13", #"{"tier": "gold", "ipv4": "192.0.2.13"}"#)
        #expect(gold.status == 422 && code(gold) == "invalid_tier")
        #expect((gold.json["error"] as? [String: Any])?["message"] as? String == "\"gold\" is not a tier in [[firewall.tiers]] (configured: premium, standard)")
        #expect(code(auth("02:00:00:00:00:14", "")) == "device_not_found")
        #expect(try sessions.activeSession(mac: MACAddress("02:00:00:00:00:13")!) == nil, "nothing stored for a refused request")
    }

    @Test("quota: the session ends once its bytes both ways reach it; idle: once they stand still for the timeout")
    func limits() throws {
        let (store, _) = try temporaryStore()
        let firewall = MemoryFirewall()
        try firewall.install(devices: [])
        let clock = TestClock()
        let sessions = SessionService(store: store, firewall: firewall, sessionMinutes: 600, defaultTier: "metered", logger: Logger(label: "t"),
                                      now: { clock.now })
        let limits = ["metered": SessionLimits(quotaBytes: 1_000_000, idle: .seconds(300))]
        let session = try sessions.login(mac: phone, ipv4: ipv4, method: .terms)
        firewall.addTraffic(ipv4, up: 100_000, down: 500_000)
        #expect(try sessions.restore() == 1, "a restart: the bytes so far go to the session's row, the new table counts from zero")
        firewall.addTraffic(ipv4, up: 0, down: 300_000)
        #expect(try sessions.enforceLimits(limits).isEmpty)
        firewall.addTraffic(ipv4, up: 0, down: 100_000)  // 1 000 000 both ways
        let ended = try sessions.enforceLimits(limits)
        #expect(ended.map(\.id) == [session.id] && ended.first?.endReason == .quota && ended.first?.bytesDown == 900_000)
        #expect(firewall.devices.isEmpty)

        let idle = try sessions.login(mac: phone, ipv4: ipv4, method: .terms)
        #expect(try sessions.enforceLimits(limits).isEmpty)
        clock.advance(200)
        firewall.addTraffic(ipv4, up: 10, down: 10)  // it moved: the 5 minutes start again
        #expect(try sessions.enforceLimits(limits).isEmpty)
        clock.advance(299)
        #expect(try sessions.enforceLimits(limits).isEmpty)
        clock.advance(1)
        #expect(try sessions.enforceLimits(limits).map { "\($0.id) \($0.endReason!.rawValue)" } == ["\(idle.id) idle"])
        // A session without a tier, or in a tier without limits, is left alone.
        try sessions.login(mac: phone, ipv4: ipv4, method: .terms, tier: .some(nil))
        clock.advance(10_000)
        #expect(try sessions.enforceLimits(limits).isEmpty)
    }
}
