import Foundation
import Testing
import Lab

/// `portald trust` and `portald block` in the lab: a trusted device is never captured,
/// a blocked one never gets through, and both hold across a restart.
@Suite("trusted and blocked devices in the lab", .serialized)
struct DeviceRulesLabTests {
    let upstream = "http://\(NetworkLab.upstreamIPv4)"

    func reachesUpstream(_ lab: NetworkLab) throws -> Bool {
        try lab.guest.exec(["curl", "-s", "--max-time", "1", "\(upstream):8000/"], check: false).stdout.contains("upstream-ok")
    }

    @Test("trusted: online without a login, not captured; blocked: session ended, held back, the blocked page; both survive a restart")
    func trustAndBlock() throws {
        let lab = try NetworkLab()
        defer { lab.destroy() }
        try lab.startUpstreamWebServer()
        let portald = try Portald(lab: lab)
        try portald.start()
        defer { try? portald.stop() }
        let guest = Guest(lab: lab)
        let mac = NetworkLab.guestMAC

        #expect(try !reachesUpstream(lab))
        #expect(try portald.cli(["trust", mac, "--note", "lobby printer"]).stdout == "\(mac) is trusted\n")
        #expect(try reachesUpstream(lab))
        #expect(try guest.get("\(upstream)/").body.contains("upstream-ok"), "a trusted device's web traffic is not captured")
        let devices = try portald.cli(["devices"]).stdout
        #expect(devices.contains(mac) && devices.contains("trusted") && devices.contains("lobby printer"), "\(devices)")
        let notBlocked = try portald.cli(["unblock", mac], check: false)
        #expect(notBlocked.status == 1 && notBlocked.stderr.contains("\(mac) is trusted, not blocked; nothing changed"), "\(notBlocked.stderr)")
        #expect(try portald.cli(["untrust", mac]).stdout == "\(mac) is no longer trusted\n")
        #expect(try guest.get("\(upstream)/").status == 302)
        #expect(try !reachesUpstream(lab))

        // An online guest, blocked: the session ends at once and nothing gets through.
        _ = try portald.cli(["auth", mac])
        #expect(try reachesUpstream(lab))
        let blocked = try portald.cli(["block", mac, "--note", "abuse report 12"]).stdout
        #expect(blocked.hasPrefix("\(mac) is blocked; its session ") && blocked.hasSuffix(" ended\n"), "\(blocked)")
        #expect(try !reachesUpstream(lab))
        #expect(try lab.gateway.exec(["nft", "list", "set", "inet", "portald", "blocked"]).stdout.contains(mac))
        let page = try guest.get("http://\(NetworkLab.gatewayLANIPv4):8080/")
        #expect(page.status == 403 && page.body.contains("This device cannot use the WiFi here") && !page.body.contains("csrf"))
        let auth = try portald.cli(["auth", mac], check: false)
        #expect(auth.status == 1 && auth.stderr.contains("\(mac) is blocked"), "\(auth.stderr)")

        // Kept across a restart: the new table has the rule from the start.
        try portald.stop()
        try portald.start()
        #expect(try lab.gateway.exec(["nft", "list", "set", "inet", "portald", "blocked"]).stdout.contains(mac))
        #expect(try guest.get("http://\(NetworkLab.gatewayLANIPv4):8080/").status == 403)
        #expect(try portald.cli(["unblock", mac]).stdout == "\(mac) is no longer blocked\n")
        let gone = try portald.cli(["unblock", mac], check: false)
        #expect(gone.status == 1 && gone.stderr.contains("\(mac) is not blocked"), "\(gone.stderr)")
        #expect(try guest.get("http://\(NetworkLab.gatewayLANIPv4):8080/").status == 200)
        let bad = try portald.cli(["block", "02:00:00:00:00"], check: false)
        #expect(bad.status == 1 && bad.stderr.contains("\"02:00:00:00:00\" is not a MAC address"), "\(bad.stderr)")
    }
}
