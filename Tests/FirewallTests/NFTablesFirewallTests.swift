import Foundation
import Testing
import Lab
@testable import Firewall

/// The real netlink path, each test in a namespace of its own (never the host's ruleset).
@Suite("nftables through netlink", .serialized)
struct NFTablesFirewallTests {
    let settings = CaptureSettings(table: "portald_test", lanInterface: "lan0",
                                   portalAddress: IPv4Address("192.0.2.1")!, portalPort: 8080)

    func device(_ n: Int, minutes: Int? = 30) -> AuthorizedDevice {
        AuthorizedDevice(mac: MACAddress(String(format: "02:00:00:00:%02x:%02x", n / 256, n % 256))!,
                         ipv4: IPv4Address("192.0.2.\(n % 250 + 2)")!, timeout: minutes.map { .seconds($0 * 60) })
    }

    func withNamespace(_ body: (Namespace, NFTablesFirewall) throws -> Void) throws {
        let namespace = try Namespace(Namespace.uniqueName("fw"))
        defer { namespace.destroy() }
        let firewall = try namespace.enter { try NFTablesFirewall(settings: settings) }
        try body(namespace, firewall)
    }

    func listTable(_ namespace: Namespace) throws -> String {
        try namespace.exec(["nft", "list", "table", "inet", settings.table]).stdout
    }

    /// The statements of one chain or set block of `nft list table`, trimmed, in order.
    func block(_ text: String, _ header: String) -> [String] {
        guard let start = text.range(of: header + " {") else { return [] }
        let rest = text[start.upperBound...]
        let end = rest.range(of: "\n\t}")?.lowerBound ?? rest.endIndex
        return rest[..<end].split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    @Test("install writes the capture ruleset nft can read back, chain by chain")
    func installRuleset() throws {
        try withNamespace { namespace, firewall in
            try firewall.install(devices: [device(1)])
            let text = try listTable(namespace)
            let set = block(text, "set authorized")
            #expect(set.contains("type ether_addr . ipv4_addr"))
            #expect(set.contains("flags timeout"))
            #expect(set.contains { $0.contains("02:00:00:00:00:01 . 192.0.2.3 timeout 30m") })
            // Counting elements: one per address and direction, outliving the session by the grace period.
            for name in ["acct_up", "acct_down"] {
                let counting = block(text, "set \(name)")
                #expect(counting.contains("type ipv4_addr") && counting.contains("counter"), "\(counting)")
                #expect(counting.contains { $0.contains("192.0.2.3 counter packets 0 bytes 0 timeout 40m") }, "\(counting)")
            }
            #expect(block(text, "chain prerouting") == [
                "type nat hook prerouting priority dstnat; policy accept;",
                "iifname \"lan0\" ether saddr . ip saddr @authorized return",
                "iifname \"lan0\" meta nfproto ipv4 tcp dport 80 dnat ip to 192.0.2.1:8080",
            ])
            #expect(block(text, "chain forward_guests") == [
                "type filter hook forward priority filter; policy accept;",
                "oifname \"lan0\" ip daddr @acct_down",
                "iifname \"lan0\" ether saddr . ip saddr @authorized ip saddr @acct_up",
                "iifname \"lan0\" ether saddr . ip saddr @authorized accept",
                "iifname \"lan0\" tcp dport 443 reject with tcp reset",
                "iifname \"lan0\" drop",
            ])
            #expect(block(text, "chain input_guests") == [
                "type filter hook input priority filter; policy accept;",
                "iifname \"lan0\" ct state established,related accept",
                "iifname \"lan0\" udp dport 53 accept",
                "iifname \"lan0\" udp dport 67 accept",
                "iifname \"lan0\" udp dport 547 accept",
                "iifname \"lan0\" tcp dport 53 accept",
                "iifname \"lan0\" tcp dport 8080 accept",
                "iifname \"lan0\" meta l4proto icmp accept",
                "iifname \"lan0\" meta l4proto ipv6-icmp accept",
                "iifname \"lan0\" drop",
            ])
        }
    }

    @Test("install replaces a stale table in one transaction")
    func reinstall() throws {
        try withNamespace { namespace, firewall in
            try firewall.install(devices: [device(1), device(2)])
            try firewall.install(devices: [device(3)])
            let text = try listTable(namespace)
            #expect(!text.contains("02:00:00:00:00:01"))
            #expect(text.contains("02:00:00:00:00:03 . 192.0.2.5"))
            // Exactly one copy of each chain.
            #expect(text.components(separatedBy: "chain prerouting").count == 2)
        }
    }

    @Test("authorize refreshes the timeout; deauthorize tolerates absent elements")
    func authorizeDeauthorize() throws {
        try withNamespace { namespace, firewall in
            try firewall.install(devices: [])
            try firewall.authorize(device(7, minutes: 5))
            #expect(try listTable(namespace).contains("02:00:00:00:00:07 . 192.0.2.9 timeout 5m"))
            try firewall.authorize(device(7, minutes: 90))
            #expect(try listTable(namespace).contains("02:00:00:00:00:07 . 192.0.2.9 timeout 1h30m"))
            #expect(try firewall.counters() == [device(7).ipv4: .zero])
            #expect(try firewall.counters(for: device(7).ipv4) == .zero)
            #expect(try firewall.counters(for: IPv4Address("192.0.2.250")!) == nil)
            try firewall.deauthorize(mac: device(7).mac, ipv4: device(7).ipv4)
            #expect(!(try listTable(namespace).contains("02:00:00:00:00:07")))
            #expect(!(try listTable(namespace).contains("192.0.2.9")))
            #expect(try firewall.counters().isEmpty)
            try firewall.deauthorize(mac: device(7).mac, ipv4: device(7).ipv4)
        }
    }

    @Test("state reads back what the kernel holds; restore adds only what is missing")
    func stateAndRestore() throws {
        try withNamespace { namespace, firewall in
            #expect(try firewall.state() == nil)
            try firewall.install(devices: [device(1), device(2)])
            #expect(try firewall.state() == FirewallState(authorized: [device(1).key, device(2).key], counted: [device(1).ipv4, device(2).ipv4]))
            try namespace.exec(["nft", "delete", "element", "inet", settings.table, "acct_down", "{ \(device(2).ipv4) }"])
            #expect(try firewall.state()?.counted == [device(1).ipv4], "counted means both directions")
            // Bytes already counted stay; the missing counting element comes back.
            try namespace.exec(["nft", "delete", "element", "inet", settings.table, "acct_up", "{ \(device(1).ipv4) }"])
            try namespace.exec(["nft", "add", "element", "inet", settings.table, "acct_up", "{ \(device(1).ipv4) counter packets 5 bytes 1500 }"])
            try firewall.restore([device(1, minutes: 5), device(2, minutes: 5)])
            #expect(try firewall.counters(for: device(1).ipv4) == TrafficCounters(bytesUp: 1500, bytesDown: 0))
            #expect(try firewall.state()?.counted == [device(1).ipv4, device(2).ipv4])
            // Removing two devices of one address in one transaction (its counting element once).
            let twin = AuthorizedDevice(mac: MACAddress("02:00:00:00:99:99")!, ipv4: device(1).ipv4, timeout: nil)
            try firewall.authorize(twin)
            try firewall.update(removing: [device(1).key, twin.key], adding: [])
            #expect(try firewall.state() == FirewallState(authorized: [device(2).key], counted: [device(2).ipv4]))
        }
    }

    @Test("reconcile repairs the kernel both ways and reinstalls a flushed ruleset")
    func reconcileAgainstTheKernel() throws {
        try withNamespace { namespace, firewall in
            let desired = [device(1), device(2), device(3)]
            #expect(try firewall.reconcile(desired: desired) == Repair(reinstalled: true, added: desired.map(\.key)))
            #expect(try firewall.reconcile(desired: desired).isEmpty)
            try namespace.exec(["nft", "delete", "element", "inet", settings.table, "authorized", "{ 02:00:00:00:00:02 . 192.0.2.4 }"])
            try namespace.exec(["nft", "add", "element", "inet", settings.table, "authorized", "{ 02:00:00:00:00:66 . 192.0.2.66 }"])
            let repair = try firewall.reconcile(desired: desired)
            #expect(repair.added == [device(2).key])
            #expect(repair.removed == [DeviceKey(mac: MACAddress("02:00:00:00:00:66")!, ipv4: IPv4Address("192.0.2.66")!)])
            #expect(try firewall.state()?.authorized == Set(desired.map(\.key)))
            try namespace.exec(["nft", "flush", "ruleset"])
            #expect(try firewall.reconcile(desired: desired).reinstalled)
            #expect(try firewall.state()?.authorized == Set(desired.map(\.key)))
            #expect(try listTable(namespace).contains("chain forward_guests"))
        }
    }

    @Test("a batch of 10 000 devices goes in one transaction")
    func bigBatch() throws {
        try withNamespace { namespace, firewall in
            let devices = (0..<10_000).map { (n: Int) -> AuthorizedDevice in
                let high = UInt8(n >> 8), low = UInt8(n & 0xff)
                let mac = MACAddress(bytes: [2, 0, 0, 0, high, low])!
                let ipv4 = IPv4Address(octets: [10, 0, high, low])!
                return AuthorizedDevice(mac: mac, ipv4: ipv4, timeout: .seconds(3600))
            }
            try firewall.install(devices: devices)
            let json = try namespace.exec(["nft", "-j", "list", "set", "inet", settings.table, "authorized"]).stdout
            #expect(json.components(separatedBy: "\"concat\"").count - 1 == 10_000)
            let counters = try firewall.counters()
            #expect(counters.count == 10_000 && counters.values.allSatisfy { $0 == .zero })
        }
    }

    @Test("errors name the refused operation; teardown is idempotent")
    func errorsAndTeardown() throws {
        try withNamespace { namespace, firewall in
            #expect(throws: FirewallError.self) { try firewall.authorize(device(1)) }  // no table yet
            #expect(try firewall.counters().isEmpty)
            #expect(try firewall.counters(for: device(1).ipv4) == nil)
            do {
                try firewall.authorize(device(1))
            } catch let error as FirewallError {
                #expect(error.description.contains("portald_test"))
                #expect(error.description.contains("No such file or directory"))
            }
            try firewall.install(devices: [])
            try firewall.teardown()
            try firewall.teardown()
            #expect(try namespace.exec(["nft", "list", "tables"]).stdout.isEmpty)
        }
    }
}

@Suite("addresses")
struct AddressTests {
    @Test func macParsing() {
        #expect(MACAddress("AA-bb-CC-01-02-03")?.description == "aa:bb:cc:01:02:03")
        #expect(MACAddress("aa:bb:cc:01:02") == nil)
        #expect(MACAddress("aa:bb:cc:01:02:0g") == nil)
        #expect(MACAddress("aaa:bb:cc:01:02:03") == nil)
        #expect(MACAddress("+a:bb:cc:01:02:03") == nil)
        #expect(MACAddress("aa:bb:cc:01:02:-3") == nil)
    }

    @Test func ipv4Parsing() {
        #expect(IPv4Address("192.0.2.1")?.octets == [192, 0, 2, 1])
        #expect(IPv4Address("192.0.2.256") == nil)
        #expect(IPv4Address("192.0.2") == nil)
        #expect(IPv4Address("192.0.2.01") == nil)
        #expect(IPv4Address("1.2.3.4.5") == nil)
        #expect(IPv4Address("+1.2.3.4") == nil)
        #expect(IPv4Address("1.2.3.-0") == nil)
        #expect(IPv4Address("1.2.3.٣") == nil)  // a non-ASCII digit
    }

    @Test func setKeyLayout() {
        let key = Ruleset.key(mac: MACAddress("02:00:00:00:00:01")!, ipv4: IPv4Address("192.0.2.3")!)
        #expect(key == [2, 0, 0, 0, 0, 1, 0, 0, 192, 0, 2, 3])
    }
}
