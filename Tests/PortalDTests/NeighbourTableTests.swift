import Firewall
import Foundation
import Lab
import Testing

@Suite("neighbour table over rtnetlink", .serialized)
struct NeighbourTableTests {
    /// A namespace with a LAN (lan0, IPv4 and IPv6) and another link (wan0), and the entries `neighbours` gives.
    func withLAN(_ neighbours: [String], _ body: (Namespace) throws -> Void) throws {
        let namespace = try Namespace(Namespace.uniqueName("neigh"))
        defer { namespace.destroy() }
        for (name, peer) in [("lan0", "lan1"), ("wan0", "wan1")] {
            try namespace.exec(["ip", "link", "add", name, "type", "veth", "peer", "name", peer])
            try namespace.exec(["ip", "link", "set", peer, "up"])
            try namespace.exec(["ip", "link", "set", name, "up"])
        }
        try namespace.exec(["ip", "addr", "add", "192.0.2.1/24", "dev", "lan0"])
        try namespace.exec(["ip", "-6", "addr", "add", "2001:db8:1::1/64", "dev", "lan0", "nodad"])
        try namespace.exec(["ip", "addr", "add", "198.51.100.1/24", "dev", "wan0"])
        let file = Scratch.directory.appendingPathComponent("neigh-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try neighbours.joined(separator: "\n").write(toFile: file, atomically: false, encoding: .utf8)
        try namespace.exec(["ip", "-batch", file])
        try body(namespace)
    }

    @Test("usable entries on the LAN only, both families; an address must match whole")
    func entriesOnTheLAN() throws {
        try withLAN([
            "neigh add 192.0.2.100 lladdr 02:00:00:00:01:00 dev lan0 nud reachable",
            "neigh add 192.0.2.10 lladdr 02:00:00:00:00:10 dev lan0 nud stale",
            "neigh add 192.0.2.11 dev lan0 nud incomplete",
            "neigh add 192.0.2.13 lladdr 02:00:00:00:00:13 dev lan0 nud failed",
            "neigh add 198.51.100.2 lladdr 02:00:00:00:00:99 dev wan0 nud permanent",
            "neigh add 2001:db8:1::10 lladdr 02:00:00:00:00:10 dev lan0 nud reachable",
            "neigh add fe80::10 lladdr 02:00:00:00:00:10 dev lan0 nud permanent",
        ]) { namespace in
            let (entries, lookups, everywhere) = try namespace.enter {
                let table = KernelNeighbours(interface: "lan0")
                let lookups = ["192.0.2.10", "192.0.2.1", "192.0.2.11", "192.0.2.13", "192.0.2.100", "198.51.100.2", "2001:db8:1::10", "2001:db8:1::11"]
                    .map { table.mac(for: IPAddress($0)!)?.description ?? "-" }
                return (Set(table.entries().map { "\($0.address) \($0.mac)\($0.confirmed ? "" : " stale")" }), lookups,
                        KernelNeighbours(interface: nil).mac(for: IPAddress("198.51.100.2")!))
            }
            #expect(entries == ["192.0.2.100 02:00:00:00:01:00", "192.0.2.10 02:00:00:00:00:10 stale", "2001:db8:1::10 02:00:00:00:00:10",
                                "fe80::10 02:00:00:00:00:10"])
            #expect(lookups == ["02:00:00:00:00:10", "-", "-", "-", "02:00:00:00:01:00", "-", "02:00:00:00:00:10", "-"])
            #expect(everywhere == MACAddress("02:00:00:00:00:99"), "without an interface, every link counts")
        }
    }

    @Test("the kernel's whole table is read: 250 neighbours of each family, each found")
    func readsTheWholeKernelTable() throws {
        let hosts = 2...251
        try withLAN(hosts.flatMap { host in
            let mac = "02:00:00:00:01:\(String(format: "%02x", host))"
            return ["neigh add 192.0.2.\(host) lladdr \(mac) dev lan0 nud permanent",
                    "neigh add 2001:db8:1::\(String(host, radix: 16)) lladdr \(mac) dev lan0 nud permanent"]
        }) { namespace in
            let (found, listed) = try namespace.enter {
                let table = KernelNeighbours(interface: "lan0")
                return (hosts.filter { table.mac(for: IPv4Address("192.0.2.\($0)")!) == MACAddress("02:00:00:00:01:\(String(format: "%02x", $0))") }.count,
                        table.entries().count)
            }
            #expect(found == hosts.count)
            #expect(listed == 2 * hosts.count)
        }
    }

    @Test("a missing interface is an error for the watcher and no entry for a login")
    func missingInterface() throws {
        let table = KernelNeighbours(interface: "nosuch0")
        #expect(table.mac(for: IPAddress("192.0.2.10")!) == nil)
        #expect(throws: FirewallError.self) { try table.readEntries() }
    }
}
