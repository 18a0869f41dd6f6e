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
            #expect(block(text, "set authorized6").contains("type ether_addr . ipv6_addr"))
            for name in ["acct_up6", "acct_down6"] {
                #expect(block(text, "set \(name)").contains("type ipv6_addr"))
            }
            #expect(block(text, "chain prerouting") == [
                "type nat hook prerouting priority dstnat; policy accept;",
                "iifname \"lan0\" ether saddr @blocked meta nfproto ipv4 tcp dport 80 dnat ip to 192.0.2.1:8080",
                "iifname \"lan0\" ether saddr @trusted return",
                "iifname \"lan0\" ip daddr @garden4 return",
                "iifname \"lan0\" ip6 daddr @garden6 return",
                "iifname \"lan0\" ip daddr @garden_dns4 return",
                "iifname \"lan0\" ip6 daddr @garden_dns6 return",
                "iifname \"lan0\" ether saddr . ip saddr @authorized return",
                "iifname \"lan0\" ether saddr . ip6 saddr @authorized6 return",
                "iifname \"lan0\" meta nfproto ipv4 tcp dport 80 dnat ip to 192.0.2.1:8080",
            ])
            #expect(block(text, "chain forward_guests") == [
                "type filter hook forward priority filter; policy accept;",
                "iifname \"lan0\" ether saddr @blocked reject with icmpx admin-prohibited",
                "iifname \"lan0\" ether saddr @trusted accept",
                "oifname \"lan0\" ip daddr @acct_down",
                "oifname \"lan0\" ip6 daddr @acct_down6",
                "iifname \"lan0\" ether saddr . ip saddr @authorized ip saddr @acct_up",
                "iifname \"lan0\" ether saddr . ip6 saddr @authorized6 ip6 saddr @acct_up6",
                "iifname \"lan0\" ether saddr . ip saddr @authorized accept",
                "iifname \"lan0\" ether saddr . ip6 saddr @authorized6 accept",
                "iifname \"lan0\" ip daddr @garden4 accept",
                "iifname \"lan0\" ip6 daddr @garden6 accept",
                "iifname \"lan0\" ip daddr @garden_dns4 accept",
                "iifname \"lan0\" ip6 daddr @garden_dns6 accept",
                "iifname \"lan0\" tcp dport 443 reject with tcp reset",
                "iifname \"lan0\" meta nfproto ipv6 reject with icmpx admin-prohibited",
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

    @Test("IPv6: an IPv6 portal gets captured web traffic; devices' IPv6 addresses are authorized and counted")
    func ipv6Capture() throws {
        let namespace = try Namespace(Namespace.uniqueName("fw6"))
        defer { namespace.destroy() }
        var settings6 = settings
        settings6.portalAddress6 = IPv6Address("2001:db8:1::1")
        settings6.portalPort6 = 8081
        let firewall = try namespace.enter { [settings6] in try NFTablesFirewall(settings: settings6) }
        let phone = MACAddress("02:00:00:00:00:10")!
        let v4 = AuthorizedDevice(mac: phone, ipv4: IPv4Address("192.0.2.10")!, timeout: .seconds(1800))
        let v6 = AuthorizedDevice(mac: phone, address: IPAddress("2001:db8:1::10")!, timeout: .seconds(1800))
        try firewall.install(devices: [v4, v6])
        let text = try namespace.exec(["nft", "list", "table", "inet", settings.table]).stdout
        #expect(block(text, "chain prerouting").last == "iifname \"lan0\" meta nfproto ipv6 tcp dport 80 dnat ip6 to [2001:db8:1::1]:8081")
        #expect(block(text, "chain prerouting").contains("iifname \"lan0\" ether saddr @blocked meta nfproto ipv6 tcp dport 80 dnat ip6 to [2001:db8:1::1]:8081"))
        #expect(block(text, "chain input_guests").contains("iifname \"lan0\" tcp dport 8081 accept"))
        #expect(block(text, "set authorized6").contains { $0.contains("02:00:00:00:00:10 . 2001:db8:1::10 timeout 30m") })
        #expect(block(text, "set acct_up6").contains { $0.contains("2001:db8:1::10 counter packets 0 bytes 0 timeout 40m") })
        #expect(try firewall.state() == FirewallState(authorized: [v4.key, v6.key], counted: [v4.address, v6.address]))
        #expect(try firewall.counters() == [v4.address: .zero, v6.address: .zero])
        #expect(try firewall.counters(for: v6.address) == .zero)
        // One transaction of both families: the IPv6 address leaves, the IPv4 one stays.
        try firewall.update(removing: [v6.key], adding: [])
        #expect(try firewall.state() == FirewallState(authorized: [v4.key], counted: [v4.address]))
        #expect(try firewall.counters(for: v6.address) == nil)
        let repair = try firewall.reconcile(desired: [v4, v6])
        #expect(repair.added == [v6.key] && repair.removed.isEmpty)
    }

    @Test("trusted and blocked devices: kept for every install, replaced in one transaction, read back and repaired")
    func deviceRules() throws {
        try withNamespace { namespace, firewall in
            let printer = MACAddress("02:00:00:00:00:50")!, tv = MACAddress("02:00:00:00:00:51")!, rogue = MACAddress("02:00:00:00:00:66")!
            try firewall.setDeviceRules(DeviceRules(trusted: [printer], blocked: [rogue]))  // no table yet: kept
            try firewall.install(devices: [device(1)])
            var text = try listTable(namespace)
            #expect(block(text, "set trusted").contains("type ether_addr") && block(text, "set trusted").contains { $0.contains("02:00:00:00:00:50") })
            #expect(block(text, "set blocked").contains { $0.contains("02:00:00:00:00:66") })
            #expect(block(text, "chain prerouting").dropFirst(2).first == "iifname \"lan0\" ether saddr @trusted return")
            #expect(Array(block(text, "chain forward_guests").dropFirst().prefix(2))
                    == ["iifname \"lan0\" ether saddr @blocked reject with icmpx admin-prohibited", "iifname \"lan0\" ether saddr @trusted accept"])
            #expect(try firewall.state()?.rules == DeviceRules(trusted: [printer], blocked: [rogue]))
            // Replaced whole: the printer leaves, the TV comes, the rogue stays.
            try firewall.setDeviceRules(DeviceRules(trusted: [tv], blocked: [rogue]))
            text = try listTable(namespace)
            #expect(!block(text, "set trusted").contains { $0.contains("02:00:00:00:00:50") })
            #expect(try firewall.state()?.rules == DeviceRules(trusted: [tv], blocked: [rogue]))
            // Someone empties the blocked set behind portald's back: the reconciler puts it back.
            try namespace.exec(["nft", "flush", "set", "inet", settings.table, "blocked"])
            let repair = try firewall.reconcile(desired: [device(1)])
            #expect(repair.rulesRestored && !repair.isEmpty)
            #expect(try firewall.state()?.rules.blocked == [rogue])
            #expect(try firewall.reconcile(desired: [device(1)]).isEmpty)
        }
    }

    @Test("a table of the version before IPv6 (no acct_up6): its IPv4 bytes are still read, and state() asks for a reinstall")
    func tableBeforeIPv6() throws {
        try withNamespace { namespace, firewall in
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("old-table-\(UUID()).nft").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            try """
            table inet \(settings.table) {
              set authorized { type ether_addr . ipv4_addr; flags timeout; elements = { 02:00:00:00:00:01 . 192.0.2.3 timeout 30m } }
              set acct_up { type ipv4_addr; flags timeout; counter; elements = { 192.0.2.3 counter packets 5 bytes 1234 timeout 40m } }
              set acct_down { type ipv4_addr; flags timeout; counter; elements = { 192.0.2.3 counter packets 7 bytes 5678 timeout 40m } }
            }
            """.write(toFile: file, atomically: false, encoding: .utf8)
            try namespace.exec(["nft", "-f", file])
            #expect(try firewall.counters() == [IPAddress("192.0.2.3")!: TrafficCounters(bytesUp: 1234, bytesDown: 5678)])
            #expect(try firewall.state() == nil, "a set is missing: the reconciler installs the table anew")
            try firewall.install(devices: [device(1)])
            #expect(try firewall.state() != nil)
        }
    }

    @Test("the walled garden: networks merged into interval sets, host names' addresses with their timeouts, rules before the capture")
    func walledGarden() throws {
        let namespace = try Namespace(Namespace.uniqueName("garden"))
        defer { namespace.destroy() }
        var gardened = settings
        gardened.walledGarden = ["203.0.113.0/24", "203.0.113.9", "198.51.100.7", "198.51.100.8/31", "198.51.100.9", "0.0.0.0/8", "255.0.0.0/8",
                                 "2001:db8:2::/64", "2001:db8:3::5"].map { IPNetwork($0)! }
        let firewall = try namespace.enter { [gardened] in try NFTablesFirewall(settings: gardened) }
        try firewall.install(devices: [])
        var text = try namespace.exec(["nft", "list", "table", "inet", settings.table]).stdout
        #expect(block(text, "set garden4").contains("flags interval"))
        let garden4 = block(text, "set garden4").joined(separator: " "), garden6 = block(text, "set garden6").joined(separator: " ")
        #expect(garden4.contains("elements = { 0.0.0.0/8, 198.51.100.7-198.51.100.9,") && garden4.contains("203.0.113.0/24, 255.0.0.0/8 }"), "\(garden4)")
        #expect(garden6.contains("elements = { 2001:db8:2::/64, 2001:db8:3::5 }"), "\(garden6)")
        // `portald firewall show` counts the ranges, not the end markers the kernel keeps after each.
        let inventory = try firewall.inventory() ?? []
        #expect(inventory.first { $0.set == "garden4" }?.elements == 4 && inventory.first { $0.set == "garden6" }?.elements == 2, "\(inventory)")
        #expect(block(text, "chain prerouting").contains("iifname \"lan0\" ip daddr @garden4 return"))
        #expect(block(text, "chain prerouting").contains("iifname \"lan0\" ip6 daddr @garden_dns6 return"))
        #expect(block(text, "chain forward_guests").contains("iifname \"lan0\" ip daddr @garden_dns4 accept"))
        let forward = block(text, "chain forward_guests")
        #expect(forward.firstIndex(of: "iifname \"lan0\" ip daddr @garden4 accept")! < forward.firstIndex(of: "iifname \"lan0\" tcp dport 443 reject with tcp reset")!)
        #expect(block(text, "set garden_dns4").contains("timeout 1h"), "dnsmasq's additions expire")
        try firewall.addGardenAddresses([(IPAddress("198.51.100.20")!, .seconds(300)), (IPAddress("2001:db8:2::20")!, .seconds(60)),
                                         (IPAddress("198.51.100.20")!, .seconds(200))])  // an answer may repeat an address
        try firewall.addGardenAddresses([(IPAddress("198.51.100.20")!, .seconds(7200))])  // a refresh with a longer TTL
        text = try namespace.exec(["nft", "list", "table", "inet", settings.table]).stdout
        #expect(block(text, "set garden_dns4").contains { $0.contains("198.51.100.20 timeout 2h") }, "\(block(text, "set garden_dns4"))")
        #expect(block(text, "set garden_dns6").contains { $0.contains("2001:db8:2::20 timeout 1m") })
        // A table installed anew (a flushed ruleset) has the resolved addresses back at once.
        try firewall.install(devices: [])
        text = try namespace.exec(["nft", "list", "table", "inet", settings.table]).stdout
        #expect(block(text, "set garden_dns4").contains { $0.contains("198.51.100.20") }, "\(block(text, "set garden_dns4"))")
        // The reconciler: the installed networks read back as configured; flushed, or one
        // added behind portald's back, they are put back.
        #expect(try firewall.repairExtras(desired: []) == ExtrasRepair())
        _ = try namespace.exec(["nft", "flush", "set", "inet", settings.table, "garden4"])
        _ = try namespace.exec(["nft", "add", "element", "inet", settings.table, "garden6", "{ 2001:db8:9::/48 }"])
        #expect(try firewall.repairExtras(desired: []) == ExtrasRepair(gardenRestored: true))
        text = try namespace.exec(["nft", "list", "table", "inet", settings.table]).stdout
        #expect(block(text, "set garden4").joined(separator: " ") == garden4)
        #expect(block(text, "set garden6").joined(separator: " ") == garden6)
        #expect(try firewall.repairExtras(desired: []) == ExtrasRepair())
        // Without networks configured, an element someone added is taken out.
        let bare = try namespace.enter { [settings] in try NFTablesFirewall(settings: settings) }
        try bare.install(devices: [])
        #expect(try bare.repairExtras(desired: []) == ExtrasRepair())
        _ = try namespace.exec(["nft", "add", "element", "inet", settings.table, "garden4", "{ 198.51.100.0/24 }"])
        #expect(try bare.repairExtras(desired: []) == ExtrasRepair(gardenRestored: true))
        #expect(!block(try namespace.exec(["nft", "list", "table", "inet", settings.table]).stdout, "set garden4").joined().contains("198.51.100"))
    }

    @Test("bandwidth tiers: a set a direction and family with the tier's rate on every element, one rule each; a device moves in and out")
    func tiers() throws {
        let namespace = try Namespace(Namespace.uniqueName("tiers"))
        defer { namespace.destroy() }
        var tiered = settings
        tiered.tiers = [BandwidthTier(name: "slow", downBytesPerSecond: 250_000, upBytesPerSecond: nil)]
        let firewall = try namespace.enter { [tiered] in try NFTablesFirewall(settings: tiered) }
        try firewall.install(devices: [])
        let phone = AuthorizedDevice(mac: MACAddress("02:00:00:00:00:10")!, ipv4: IPv4Address("192.0.2.10")!, timeout: .seconds(600), tier: "slow")
        try firewall.authorize(phone)
        var text = try namespace.exec(["nft", "list", "table", "inet", settings.table]).stdout
        let down4 = block(text, "set tier_slow_down4")
        #expect(down4.contains("limit rate over 250000 bytes/second burst 62500 bytes"), "\(down4)")
        #expect(down4.contains { $0.contains("192.0.2.10 limit rate over 250000 bytes/second burst 62500 bytes timeout 10m") }, "\(down4)")
        #expect(!text.contains("set tier_slow_up4"), "no upload rate: no upload sets")
        let forward = block(text, "chain forward_guests")
        #expect(forward.contains("oifname \"lan0\" ip daddr @tier_slow_down4 drop") && forward.contains("oifname \"lan0\" ip6 daddr @tier_slow_down6 drop"))
        #expect(forward.firstIndex(of: "oifname \"lan0\" ip daddr @tier_slow_down4 drop")! < forward.firstIndex(of: "oifname \"lan0\" ip daddr @acct_down")!,
                "a dropped packet is not counted")
        // Authorized again without a tier, then deauthorized: out of the tier's set each time.
        var unlimited = phone
        unlimited.tier = nil
        try firewall.authorize(unlimited)
        text = try namespace.exec(["nft", "list", "table", "inet", settings.table]).stdout
        #expect(!block(text, "set tier_slow_down4").contains { $0.contains("192.0.2.10") })
        try firewall.authorize(phone)
        try firewall.update(removing: [phone.key], adding: [])
        text = try namespace.exec(["nft", "list", "table", "inet", settings.table]).stdout
        #expect(!block(text, "set tier_slow_down4").contains { $0.contains("192.0.2.10") })
        #expect(try firewall.inventory()?.contains { $0.set == "tier_slow_down6" } == true)
        // The reconciler: an element deleted behind portald's back is put back (and nothing
        // else touched); one in a tier its device is not in is taken out.
        let tablet = AuthorizedDevice(mac: MACAddress("02:00:00:00:00:11")!, address: IPAddress("2001:db8:1::11")!, timeout: .seconds(600), tier: "slow")
        try firewall.authorize(phone)
        try firewall.authorize(tablet)
        #expect(try firewall.repairExtras(desired: [phone, tablet]) == ExtrasRepair())
        _ = try namespace.exec(["nft", "delete", "element", "inet", settings.table, "tier_slow_down6", "{ 2001:db8:1::11 }"])
        _ = try namespace.exec(["nft", "add", "element", "inet", settings.table, "tier_slow_down4", "{ 192.0.2.12 }"])
        #expect(try firewall.repairExtras(desired: [phone, tablet]) == ExtrasRepair(tierAdded: [tablet.address], tierRemoved: [IPAddress("192.0.2.12")!]))
        text = try namespace.exec(["nft", "list", "table", "inet", settings.table]).stdout
        #expect(block(text, "set tier_slow_down6").contains { $0.contains("2001:db8:1::11 limit rate over 250000 bytes/second") }, "\(block(text, "set tier_slow_down6"))")
        #expect(!block(text, "set tier_slow_down4").contains { $0.contains("192.0.2.12") })
        #expect(block(text, "set tier_slow_down4").contains { $0.contains("192.0.2.10") })
        // A device whose session left the tier: out of its set.
        #expect(try firewall.repairExtras(desired: [unlimited, tablet]) == ExtrasRepair(tierRemoved: [phone.address]))
        #expect(try firewall.repairExtras(desired: [unlimited, tablet]) == ExtrasRepair())
        // Through the reconciler: a tier element deleted by hand comes back, nothing else is touched.
        _ = try namespace.exec(["nft", "delete", "element", "inet", settings.table, "tier_slow_down6", "{ 2001:db8:1::11 }"])
        let repair = try firewall.reconcile(desired: [unlimited, tablet])
        #expect(repair.extras.tierAdded == [tablet.address] && repair.added.isEmpty && repair.removed.isEmpty && !repair.reinstalled)
        // A table from before the tier was configured has no tier sets: installed anew, the device in its tier.
        let untiered = try namespace.enter { [settings] in try NFTablesFirewall(settings: settings) }
        try untiered.install(devices: [unlimited, tablet])
        #expect(try firewall.reconcile(desired: [unlimited, tablet]).reinstalled)
        text = try namespace.exec(["nft", "list", "table", "inet", settings.table]).stdout
        #expect(block(text, "set tier_slow_down6").contains { $0.contains("2001:db8:1::11") })
    }

    @Test("networks: parsed with their prefix, host bits refused, ranges computed")
    func networks() {
        #expect(IPNetwork("203.0.113.0/24")?.description == "203.0.113.0/24")
        #expect(IPNetwork("203.0.113.5")?.description == "203.0.113.5")
        #expect(IPNetwork("203.0.113.5/24") == nil, "host bits set")
        #expect(IPNetwork("203.0.113.0/33") == nil && IPNetwork("203.0.113.0/") == nil && IPNetwork("203.0.113.0/+8") == nil)
        #expect(IPNetwork("2001:db8::/32")?.end == [0x20, 0x01, 0x0d, 0xb9] + [UInt8](repeating: 0, count: 12))
        #expect(IPNetwork("255.255.255.0/24")?.end == nil, "reaches the last address")
        #expect(IPNetwork("198.51.100.8/31")?.end == [198, 51, 100, 10])
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
            #expect(try firewall.counters() == [device(7).address: .zero])
            #expect(try firewall.counters(for: device(7).address) == .zero)
            #expect(try firewall.counters(for: IPv4Address("192.0.2.250")!) == nil)
            try firewall.update(removing: [device(7).key], adding: [])
            #expect(!(try listTable(namespace).contains("02:00:00:00:00:07")))
            #expect(!(try listTable(namespace).contains("192.0.2.9")))
            #expect(try firewall.counters().isEmpty)
            try firewall.update(removing: [device(7).key], adding: [])
        }
    }

    @Test("state reads back what the kernel holds; restore adds only what is missing")
    func stateAndRestore() throws {
        try withNamespace { namespace, firewall in
            #expect(try firewall.state() == nil)
            try firewall.install(devices: [device(1), device(2)])
            #expect(try firewall.state() == FirewallState(authorized: [device(1).key, device(2).key], counted: [device(1).address, device(2).address]))
            try namespace.exec(["nft", "delete", "element", "inet", settings.table, "acct_down", "{ \(device(2).address) }"])
            #expect(try firewall.state()?.counted == [device(1).address], "counted means both directions")
            // Bytes already counted stay; the missing counting element comes back.
            try namespace.exec(["nft", "delete", "element", "inet", settings.table, "acct_up", "{ \(device(1).address) }"])
            try namespace.exec(["nft", "add", "element", "inet", settings.table, "acct_up", "{ \(device(1).address) counter packets 5 bytes 1500 }"])
            try firewall.restore([device(1, minutes: 5), device(2, minutes: 5)])
            #expect(try firewall.counters(for: device(1).address) == TrafficCounters(bytesUp: 1500, bytesDown: 0))
            #expect(try firewall.state()?.counted == [device(1).address, device(2).address])
            // Removing two devices of one address in one transaction (its counting element once).
            let twin = AuthorizedDevice(mac: MACAddress("02:00:00:00:99:99")!, address: device(1).address, timeout: nil)
            try firewall.authorize(twin)
            try firewall.update(removing: [device(1).key, twin.key], adding: [])
            #expect(try firewall.state() == FirewallState(authorized: [device(2).key], counted: [device(2).address]))
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
            #expect(try firewall.counters(for: device(1).address) == nil)
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
        #expect(MACAddress("aa-bb:cc-01:02:ff")?.bytes == [0xaa, 0xbb, 0xcc, 1, 2, 0xff])
        for bad in ["", ":", "aa:bb:cc:01:02:03:", ":aa:bb:cc:01:02:03", "aa:bb:cc:01:02:03:04", "aa:bb:cc:01:0203", "aa::bb:cc:01:02",
                    "a:bb:cc:01:02:03", "aa:bb:cc:01:02:03 ", "ａａ:bb:cc:01:02:03"] {
            #expect(MACAddress(bad) == nil, "\(bad)")
        }
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
        #expect(IPv4Address("0.0.0.0")?.octets == [0, 0, 0, 0])
        #expect(IPv4Address("255.255.255.255")?.octets == [255, 255, 255, 255])
        #expect(IPv4Address("10.100.0.9")?.description == "10.100.0.9")
        for bad in ["", ".", ".1.2.3", "1.2.3.", "1..2.3", "1.2.3.4 ", "1000.1.1.1", "1.2.3.00", "300.1.1.1", "1.2.3.4.", "0x1.2.3.4"] {
            #expect(IPv4Address(bad) == nil, "\(bad)")
        }
    }

    @Test("IPv6 text in, RFC 5952 text out; what inet_pton refuses is refused")
    func ipv6Parsing() {
        let canonical = [
            "2001:db8::1": "2001:db8::1", "2001:DB8:0:0:0:0:0:1": "2001:db8::1", "::": "::", "::1": "::1",
            "2001:db8:0:0:1:0:0:1": "2001:db8::1:0:0:1",  // the first of two equal runs
            "2001:0db8:0:1:0:0:0:1": "2001:db8:0:1::1", "fe80::1:2": "fe80::1:2", "2001:db8:1:2:3:4:5:6": "2001:db8:1:2:3:4:5:6",
            "2001:db8::": "2001:db8::", "::ffff:192.0.2.1": "::ffff:192.0.2.1", "::192.0.2.1": "::c000:201",
            "2001:db8:0:1:1:1:1:1": "2001:db8:0:1:1:1:1:1",  // one zero group is not compressed
        ]
        for (text, expected) in canonical {
            #expect(IPv6Address(text)?.description == expected, "\(text)")
        }
        for bad in ["", ":", ":::", "1::2::3", "2001:db8::1::", "12345::1", "2001:db8:1:2:3:4:5:6:7", "2001:db8:1:2:3:4:5",
                    "g::1", "2001:db8::1%eth0", "::ffff:192.0.2.256", "1:2:3:4:5:6:7::8", "::1.2.3.4:5", "+1::2", "2001:db8::-1"] {
            #expect(IPv6Address(bad) == nil, "\(bad)")
        }
        #expect(IPv6Address("fe80::1")!.isLinkLocal && IPv6Address("febf::1")!.isLinkLocal && !IPv6Address("fec0::1")!.isLinkLocal)
        #expect(IPAddress("::ffff:192.0.2.10")?.unmapped == .v4(IPv4Address("192.0.2.10")!))
        #expect(IPAddress("2001:db8::10")?.unmapped == IPAddress("2001:db8::10"))
        #expect(IPAddress("192.0.2.1")! < IPAddress("::1")!, "IPv4 sorts first")
    }

    @Test func setKeyLayout() {
        let key = Ruleset.key(mac: MACAddress("02:00:00:00:00:01")!, ipv4: IPv4Address("192.0.2.3")!)
        #expect(key == [2, 0, 0, 0, 0, 1, 0, 0, 192, 0, 2, 3])
        let key6 = Ruleset.key(DeviceKey(mac: MACAddress("02:00:00:00:00:01")!, address: IPAddress("2001:db8::3")!))
        #expect(key6 == [2, 0, 0, 0, 0, 1, 0, 0, 0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [3])
        #expect(Ruleset.device(key: key6)?.description == "02:00:00:00:00:01 . 2001:db8::3")
    }
}
