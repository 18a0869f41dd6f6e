import Firewall
import Foundation
import Logging
import Testing
@testable import PortalD

/// What a reload applies and what it names as waiting for a restart.
@Suite("reload: what changes at once, what waits for a restart")
struct ConfigChangesTests {
    func parse(_ text: String) throws -> Config { try Config.parse(text, baseDirectory: "/etc/portald") }

    @Test("the same file read twice (the example with every key, too) changes nothing that needs a restart")
    func noFalseAlarms() throws {
        let example = try String(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../config/portald.example.toml").standardized, encoding: .utf8)
        for text in [gatewayConfig(), example] {
            #expect(ConfigChanges.needingRestart(from: try parse(text), to: try parse(text)) == [])
        }
    }

    @Test("listen addresses, the table and the store are named; endpoints, tokens, tiers, garden, log level and branding are not")
    func named() throws {
        let old = try parse(gatewayConfig(sections: "[firewall]\ntable = \"portald\"\n[admin]\nlisten = \"127.0.0.1:8081\"\n[log]\nlevel = \"info\""))
        let moved = try parse(gatewayConfig(portal: "listen_ipv6 = \"[2001:db8:1::1]:8080\"", sections: """
            [firewall]
            table = "guests"
            walled_garden = ["198.51.100.0/24"]
            [[firewall.tiers]]
            name = "standard"
            down_kbps = 2000
            [admin]
            listen = "127.0.0.1:9081"
            [[admin.tokens]]
            name = "pms"
            token = "\(String(repeating: "p", count: 40))"
            scopes = ["clients:read"]
            [log]
            level = "debug"
            [[webhooks.endpoints]]
            id = "cloud"
            url = "https://hooks.example.com/x"
            secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
            topics = ["*"]
            """))
        #expect(ConfigChanges.needingRestart(from: old, to: moved) == ["[portal] listen_ipv6", "[firewall] table", "[admin] listen"])
        let applied = ConfigChanges.applying(moved, to: old)
        #expect(applied.firewall.table == "portald" && applied.admin.listen.port == 8081, "what waits keeps its running value")
        #expect(applied.firewall.tiers.map(\.name) == ["standard"] && applied.webhooks.endpoints.map(\.id) == ["cloud"]
                && applied.admin.tokens.map(\.name) == ["pms"] && applied.log.level == "debug" && applied.firewall.walledGarden.networks.count == 1)
        // So the next reload of the same file names them again, not nothing.
        #expect(ConfigChanges.needingRestart(from: applied, to: moved) == ["[portal] listen_ipv6", "[firewall] table", "[admin] listen"])
    }
}

@Suite("reload: new tiers reach the kernel whole, or not at all")
struct ReconfigureTests {
    @Test("new tiers install the table again with every session; a refused install keeps the running tiers, and the same reload tries again")
    func rollback() throws {
        let (store, _) = try temporaryStore()
        let firewall = FaultyFirewall()
        let sessions = SessionService(store: store, firewall: firewall, sessionMinutes: 60, logger: Logger(label: "t"))
        _ = try sessions.restore()
        try sessions.login(mac: MACAddress("02:00:00:00:00:aa")!, ipv4: IPv4Address("192.0.2.10")!, method: .terms)
        let standard = BandwidthTier(name: "standard", downBytesPerSecond: 250_000, upBytesPerSecond: nil)
        #expect(try sessions.reconfigure(tiers: [standard], walledGarden: [], defaultTier: "standard"))
        #expect(firewall.configured.withLock { $0.tiers } == [standard])
        #expect(try firewall.state()?.authorized.count == 1, "the guest is in the table installed again")
        #expect(sessions.reconcileRecords().last?.cause == "reload")
        #expect(try !sessions.reconfigure(tiers: [standard], walledGarden: [], defaultTier: "standard"), "nothing differs: no install")

        let premium = BandwidthTier(name: "premium", downBytesPerSecond: 1_000_000, upBytesPerSecond: nil)
        firewall.refusing = true
        #expect(throws: FirewallError.self) { try sessions.reconfigure(tiers: [standard, premium], walledGarden: [], defaultTier: "premium") }
        #expect(firewall.configured.withLock { $0.tiers } == [standard], "the kernel still has the running tiers, and so does the firewall")
        #expect(sessions.defaultTier == "standard", "logins meanwhile get a tier the kernel has")
        firewall.refusing = false
        #expect(try sessions.reconfigure(tiers: [standard, premium], walledGarden: [], defaultTier: "premium"), "the same reload again installs it")
        #expect(firewall.configured.withLock { $0.tiers } == [standard, premium])
    }
}
