import Foundation
import Testing
import Lab

/// The walled garden in the lab: configured addresses and a host name (resolved by
/// portald through a DNS server in the upstream namespace) are reachable before
/// login, over both families; nothing else is.
@Suite("walled garden in the lab", .serialized)
struct WalledGardenLabTests {
    @Test("addresses, networks and a host name are reachable before login, and nothing else; check-config prints the dnsmasq line")
    func garden() throws {
        let lab = try NetworkLab()
        defer { lab.destroy() }
        try lab.startUpstreamWebServer()
        // Two more hosts upstream: .3 is what pay.example.com resolves to, .4 is outside the garden.
        let root = Scratch.directory.appendingPathComponent("garden-www-\(UUID())")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try "other-ok\n".write(to: root.appendingPathComponent("index.html"), atomically: false, encoding: .utf8)
        for host in ["198.51.100.3", "198.51.100.4"] {
            try lab.upstream.exec(["ip", "addr", "add", "\(host)/24", "dev", "up0"])
            try lab.spawn(in: lab.upstream, ["python3", "-m", "http.server", "8000", "--bind", host, "--directory", root.path])
            try waitUntil("a web server on \(host)") {
                (try? lab.upstream.exec(["curl", "-sf", "-o", "/dev/null", "http://\(host):8000/"], check: false).status) == 0
            }
        }
        // A DNS server upstream, and the gateway's resolver pointed at it (ip netns exec
        // bind-mounts /etc/netns/<namespace>/resolv.conf; removed with the lab).
        let zone = Scratch.directory.appendingPathComponent("zone-\(UUID()).json").path
        try #"{"pay.example.com": {"A": ["198.51.100.3"], "ttl": 60}}"#.write(toFile: zone, atomically: false, encoding: .utf8)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Lab/dns_server.py").standardizedFileURL.path
        try lab.spawn(in: lab.upstream, ["python3", script, "--bind", NetworkLab.upstreamIPv4, "--zone", zone])
        let netns = URL(fileURLWithPath: "/etc/netns/\(lab.gateway.name)")
        try FileManager.default.createDirectory(at: netns, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: netns) }
        try "nameserver \(NetworkLab.upstreamIPv4)\n".write(to: netns.appendingPathComponent("resolv.conf"), atomically: false, encoding: .utf8)
        try waitUntil("the DNS server answers") {
            (try? lab.gateway.exec(["getent", "hosts", "pay.example.com"], check: false).stdout.contains("198.51.100.3")) == true
        }

        let portald = try Portald(lab: lab, firewall: #"walled_garden = ["198.51.100.2", "2001:db8:2::/64", "pay.example.com"]"#)
        let checked = try portald.run([Portald.binary, "check-config", "--config", portald.configPath])
        #expect(checked.stdout.contains("nftset=/pay.example.com/4#inet#portald#garden_dns4,6#inet#portald#garden_dns6"), "\(checked.stdout)")
        try portald.start()
        defer { try? portald.stop() }
        let guest = Guest(lab: lab)
        func fetch(_ url: String) throws -> String {
            try lab.guest.exec(["curl", "-gs", "--max-time", "1", url], check: false).stdout
        }

        // Before any login: the garden answers, on any port (port 80 is not sent to the portal), over both families.
        #expect(try fetch("http://\(NetworkLab.upstreamIPv4):8000/").contains("upstream-ok"))
        #expect(try guest.get("http://\(NetworkLab.upstreamIPv4)/").body.contains("upstream-ok"))
        #expect(try fetch("http://[\(NetworkLab.upstreamIPv6)]:8000/").contains("upstream-ok"))
        // The host name's address, once portald has resolved it (its first tick).
        try waitUntil("pay.example.com's address is in the garden", timeout: .seconds(8)) {
            try fetch("http://198.51.100.3:8000/").contains("other-ok")
        }
        #expect(try lab.gateway.exec(["nft", "list", "set", "inet", "portald", "garden_dns4"]).stdout.contains("198.51.100.3"))
        // Nothing else: another upstream host is refused, and its web traffic still meets the portal.
        #expect(try !fetch("http://198.51.100.4:8000/").contains("other-ok"))
        #expect(try guest.get("http://198.51.100.4/").status == 302)

        // A blocked device reaches nothing, the garden included.
        _ = try portald.cli(["block", NetworkLab.guestMAC])
        #expect(try !fetch("http://\(NetworkLab.upstreamIPv4):8000/").contains("upstream-ok"))
        #expect(try guest.get("http://\(NetworkLab.upstreamIPv4)/").status == 302, "its web traffic goes to the portal (and its blocked page)")
        _ = try portald.cli(["unblock", NetworkLab.guestMAC])

        let shown = try portald.cli(["firewall", "show"]).stdout
        #expect(shown.contains("walled garden: 198.51.100.2, 2001:db8:2::/64, pay.example.com"), "\(shown)")
    }
}
