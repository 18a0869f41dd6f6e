import Foundation
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
