import Foundation
import Testing
import Lab

/// IPv6 in the lab: the guest (2001:db8:1::10) is held back over IPv6 as over IPv4,
/// meets the portal over IPv6, and once its MAC is logged in every address it uses
/// is let through, a new one within seconds.
@Suite("IPv6 capture in the three-namespace lab", .serialized)
struct IPv6CaptureTests {
    let upstream6 = "http://[\(NetworkLab.upstreamIPv6)]"
    let portal6 = "http://[\(NetworkLab.gatewayLANIPv6)]:8080"

    /// curl over IPv6 from the guest (globbing off for the brackets); `from` picks the source address.
    func curl6(_ lab: NetworkLab, _ url: String, from source: String? = nil, timeout: String = "2", _ more: [String] = []) throws -> CommandResult {
        try lab.guest.exec(["curl", "-6", "-gs", "--max-time", timeout] + (source.map { ["--interface", $0] } ?? []) + more + [url], check: false)
    }

    func reachesUpstream(_ lab: NetworkLab, from source: String? = nil) throws -> Bool {
        try curl6(lab, "\(upstream6):8000/", from: source, timeout: "1").stdout.contains("upstream-ok")
    }

    /// Sends one UDP datagram from the guest to the upstream's port 9999 (QUIC, DNS and the like take this path).
    func sendUDP(_ lab: NetworkLab, to address: String, _ text: String) throws {
        let family = address.contains(":") ? "AF_INET6" : "AF_INET"
        try lab.guest.exec(["python3", "-c", "import socket; socket.socket(socket.\(family), socket.SOCK_DGRAM).sendto(b'\(text)', ('\(address)', 9999))"])
    }

    @Test("captured over IPv6, no way past the portal, logs in over IPv6; a new address is online within seconds")
    func ipv6() throws {
        let lab = try NetworkLab()
        defer { lab.destroy() }
        try lab.startUpstreamWebServer()
        let portald = try Portald(lab: lab, portal: "listen_ipv6 = \"[\(NetworkLab.gatewayLANIPv6)]:8080\"")
        try portald.start()
        defer { try? portald.stop() }
        let guest = Guest(lab: lab)
        // What reaches the upstream over UDP, on both families: a line per datagram.
        let received = FileManager.default.temporaryDirectory.appendingPathComponent("udp-\(UUID()).txt").path
        defer { try? FileManager.default.removeItem(atPath: received) }
        _ = FileManager.default.createFile(atPath: received, contents: nil)
        try lab.spawn(in: lab.upstream, ["python3", "-c", """
            import socket, selectors
            sel = selectors.DefaultSelector()
            for family, address in ((socket.AF_INET6, "\(NetworkLab.upstreamIPv6)"), (socket.AF_INET, "\(NetworkLab.upstreamIPv4)")):
                s = socket.socket(family, socket.SOCK_DGRAM); s.bind((address, 9999)); sel.register(s, selectors.EVENT_READ)
            while True:
                for key, _ in sel.select():
                    data, peer = key.fileobj.recvfrom(100)
                    with open("\(received)", "a") as f: f.write(data.decode() + "\\n")
            """])
        try waitUntil("the UDP listener is up") {
            (try? lab.upstream.exec(["ss", "-uln"]).stdout.contains(":9999")) == true
        }
        func upstreamHeard() throws -> String { try String(contentsOfFile: received, encoding: .utf8) }

        // Captured over IPv6: web traffic is sent to the portal's IPv6 listener, which redirects it.
        let captured = try curl6(lab, "\(upstream6)/page", ["-i"])
        #expect(captured.stdout.hasPrefix("HTTP/1.1 302"), "\(captured.stdout) \(captured.stderr)")
        #expect(captured.stdout.contains("Location: http://192.0.2.1:8080/?url=http%3A%2F%2F%5B2001%3Adb8%3A2%3A%3A2%5D%2Fpage"))
        // No bypass over IPv6: other ports are refused (ICMPv6 administratively prohibited, curl exit 7
        // or 28), HTTPS is reset, ping gets nothing; and the upstream saw nothing.
        #expect(try !reachesUpstream(lab))
        let https = try curl6(lab, "https://[\(NetworkLab.upstreamIPv6)]/")
        #expect(https.status == 7, "HTTPS over IPv6: curl exit \(https.status)")
        #expect(try lab.guest.exec(["ping", "-6", "-c", "1", "-W", "1", NetworkLab.upstreamIPv6], check: false).status != 0)
        try sendUDP(lab, to: NetworkLab.upstreamIPv6, "before-v6")
        try sendUDP(lab, to: NetworkLab.upstreamIPv4, "before-v4")
        // RFC 8908 over IPv6.
        let captive = try curl6(lab, "\(portal6)/api/captive")
        #expect(captive.stdout.contains(#""captive":true"#), "\(captive.stdout) \(captive.stderr)")

        // The splash page and the login, both over IPv6. An IPv4 request first, so the
        // gateway has the guest's IPv4 neighbour entry too.
        #expect(try guest.get("http://\(NetworkLab.upstreamIPv4)/").status == 302)
        let splash = try curl6(lab, "\(portal6)/")
        #expect(splash.stdout.contains("csrf"), "the IPv6 listener serves the splash page: \(splash.stdout)")
        let token = try Guest.formToken(in: splash.stdout)
        let login = try curl6(lab, "\(portal6)/login/terms", ["--data-urlencode", "csrf=\(token)", "--data-urlencode", "accept=yes"])
        #expect(login.stdout.contains("You are online"), "\(login.stdout)")
        #expect(try reachesUpstream(lab))
        #expect(try upstreamHeard() == "", "nothing got through before the login, UDP included")
        try sendUDP(lab, to: NetworkLab.upstreamIPv6, "after-v6")
        try waitUntil("UDP over IPv6 arrives once online") { try upstreamHeard().contains("after-v6") }
        #expect(try curl6(lab, "\(portal6)/api/captive").stdout.contains(#""captive":false"#))
        let set6 = try lab.gateway.exec(["nft", "list", "set", "inet", "portald", "authorized6"]).stdout
        #expect(set6.contains("02:00:00:00:00:10 . 2001:db8:1::10 timeout 1d"), "\(set6)")
        // Its IPv4 address is bound by the address watcher within a tick or two.
        try waitUntil("the IPv4 address of a device logged in over IPv6 is online", timeout: .seconds(8)) {
            try lab.guestCurl(["--max-time", "1", "http://\(NetworkLab.upstreamIPv4):8000/"]).stdout.contains("upstream-ok")
        }

        // A new (privacy) address: refused at first, online within seconds, without a login.
        let privacy = "2001:db8:1::abcd"
        try lab.guest.exec(["ip", "-6", "addr", "add", "\(privacy)/64", "dev", "g0", "nodad"])
        let added = ContinuousClock.now
        #expect(try !reachesUpstream(lab, from: privacy))
        try waitUntil("the new IPv6 address is online", timeout: .seconds(10)) { try reachesUpstream(lab, from: privacy) }
        let took = ContinuousClock.now - added
        print("IPv6 capture: a new privacy address was online after \(took)")
        #expect(took < .seconds(6), "took \(took)")
        let clients = try portald.cli(["clients", "--json"]).stdout
        #expect(clients.contains(privacy), "\(clients)")

        // Another MAC sending from the authorized address gets nothing through: MAC and address go together.
        try lab.guest.exec(["ip", "link", "set", "g0", "address", "02:00:00:00:00:99"])
        #expect(try !reachesUpstream(lab), "a borrowed IPv6 address under another MAC got through")
        try lab.guest.exec(["ip", "link", "set", "g0", "address", NetworkLab.guestMAC])

        // Deauthorized: every address is held back again.
        try portald.cli(["deauth", NetworkLab.guestMAC])
        #expect(try !reachesUpstream(lab))
        #expect(try !reachesUpstream(lab, from: privacy))
        #expect(try lab.guest.exec(["curl", "-s", "--max-time", "1", "http://\(NetworkLab.upstreamIPv4):8000/"], check: false).status != 0)
        #expect(try lab.gateway.exec(["nft", "list", "set", "inet", "portald", "authorized6"]).stdout.contains("2001:db8") == false)
    }
}
