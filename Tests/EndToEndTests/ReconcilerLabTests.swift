import Foundation
import Testing
import Lab

/// The kernel follows the sessions, against the real kernel: whatever someone does
/// to portald's table, the reconciler puts every live session back within its interval.
@Suite("the reconciler in the lab", .serialized)
struct ReconcilerLabTests {
    let upstream = "http://\(NetworkLab.upstreamIPv4)/"
    let ghost = "02:00:00:00:00:77"

    func authorized(_ portald: Portald) throws -> String {
        try portald.run(["nft", "list", "set", "inet", "portald", "authorized"], check: false).stdout
    }

    @Test("`nft flush ruleset` is healed within the interval, every live session back in; edits are repaired both ways")
    func flushAndEditsAreRepaired() throws {
        let lab = try NetworkLab()
        defer { lab.destroy() }
        try lab.startUpstreamWebServer()
        let portald = try Portald(lab: lab, firewall: "reconcile_seconds = 2")
        try portald.start()
        defer { try? portald.stop() }
        _ = try lab.guestCurl(["-o", "/dev/null", upstream])  // the gateway learns the guest's MAC
        _ = try portald.cli(["auth", NetworkLab.guestMAC])
        _ = try portald.cli(["auth", ghost, "--ip", "192.0.2.77"])
        #expect(try lab.guestCurl([upstream]).stdout.contains("upstream-ok"))
        // `portald firewall show`: the table, its sets' sizes, and the install at start as the last repair.
        let shown = try portald.cli(["firewall", "show"]).stdout
        #expect(shown.hasPrefix("table inet portald: installed\n"), "\(shown)")
        #expect(shown.contains("authorized   2") && shown.contains("acct_up6     0") && shown.contains("blocked: none"), "\(shown)")
        #expect(shown.contains("last repair: ") && shown.contains("(start, ") && shown.contains(" ms): table installed"), "\(shown)")

        try portald.run(["nft", "flush", "ruleset"])
        let flushed = ContinuousClock.now
        try waitUntil("the table is back with both sessions", timeout: .seconds(6)) {
            let set = try authorized(portald)
            return set.contains("\(NetworkLab.guestMAC) . \(NetworkLab.guestIPv4)") && set.contains("\(ghost) . 192.0.2.77")
        }
        print("flush healed after \(ContinuousClock.now - flushed) (interval 2 s, checked every 2 s)")
        #expect(portald.log.contains("firewall table was missing; installed again with every live session"))
        // The whole ruleset is back, not only the set: the guest is online, others are captured.
        #expect(try lab.guestCurl([upstream]).stdout.contains("upstream-ok"))
        let table = try portald.run(["nft", "list", "table", "inet", "portald"]).stdout
        #expect(table.contains("dnat ip to 192.0.2.1:8080") && table.contains("tcp dport 443 reject with tcp reset"))

        // An element deleted by hand comes back; one added by hand goes.
        try portald.run(["nft", "delete", "element", "inet", "portald", "authorized", "{ \(ghost) . 192.0.2.77 }"])
        try portald.run(["nft", "add", "element", "inet", "portald", "authorized", "{ 02:00:00:00:00:66 . 192.0.2.66 }"])
        try waitUntil("the edits are repaired", timeout: .seconds(6)) {
            let set = try authorized(portald)
            return set.contains("\(ghost) . 192.0.2.77") && !set.contains("02:00:00:00:00:66")
        }
        #expect(portald.log.contains("firewall repaired to match the sessions"))
        #expect(portald.log.contains("02:00:00:00:00:66 . 192.0.2.66"))
        let status = try JSONSerialization.jsonObject(with: Data(try portald.cli(["firewall", "show", "--json"]).stdout.utf8)) as? [String: Any]
        let repair = status?["last_repair"] as? [String: Any]
        #expect(status?["installed"] as? Bool == true)
        #expect(repair?["cause"] as? String == "the timer" && (repair?["removed"] as? [String])?.contains("02:00:00:00:00:66 . 192.0.2.66") == true,
                "\(String(describing: status))")
    }

    @Test("two devices on one address one after the other (DHCP reuse): each session reports its own bytes")
    func dhcpReuseKeepsGuestsApart() throws {
        let lab = try NetworkLab()
        defer { lab.destroy() }
        try lab.startUpstreamWebServer()
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let receiver = try WebhookReceiver(secrets: [secret], namespace: lab.upstream, host: NetworkLab.upstreamIPv4)
        let portald = try Portald(lab: lab, extra: """
            [[webhooks.endpoints]]
            id = "cloud"
            url = "\(receiver.url("/hooks", host: NetworkLab.upstreamIPv4))"
            secret = "\(secret)"
            topics = ["wifi.session.ended"]
            """)
        try portald.start()
        defer { try? portald.stop() }
        let guest = Guest(lab: lab)
        func logIn() throws {
            let splash = try guest.get("http://\(NetworkLab.gatewayLANIPv4):8080/")
            let csrf = try Guest.formToken(in: splash.body)
            let online = try guest.post("http://\(NetworkLab.gatewayLANIPv4):8080/login/terms", form: [("csrf", csrf), ("accept", "yes")])
            #expect(online.status == 200 && online.body.contains("You are online"), "\(online.body)")
        }
        func download(_ megabytes: Int) throws {
            for _ in 0..<megabytes {
                #expect(try lab.guestCurl(["-o", "/dev/null", "-w", "%{size_download}", "\(upstream)megabyte.bin"]).stdout == "1000000")
            }
        }

        // The first device: 1 MB.
        try logIn()
        try download(1)
        // Its lease ends; a second device gets the same address, is captured, logs in, and moves 2 MB.
        let second = "02:00:00:00:00:20"
        try lab.guest.exec(["ip", "link", "set", "g0", "address", second])
        try lab.gateway.exec(["ip", "neigh", "flush", "dev", NetworkLab.lanInterface])
        #expect(try guest.get(upstream).status == 302, "the new device is captured, not let through on the old one's element")
        try logIn()
        try download(2)
        _ = try portald.cli(["deauth", second])

        let ended = try receiver.waitFor("both sessions ended") { $0.filter { $0.event == "wifi.session.ended" }.count == 2 }
            .filter { $0.event == "wifi.session.ended" }
        func bytesDown(_ mac: String) -> Double? {
            guard case .number(let bytes)? = ended.first(where: { $0.data?["mac"]?.string == mac })?.data?["bytes_down"] else { return nil }
            return bytes
        }
        let first = try #require(ended.first { $0.data?["mac"]?.string == NetworkLab.guestMAC })
        #expect(first.data?["reason"]?.string == "address_reused")
        let firstBytes = try #require(bytesDown(NetworkLab.guestMAC)), secondBytes = try #require(bytesDown(second))
        #expect(firstBytes >= 1_000_000 && firstBytes < 1_150_000, "first device: \(firstBytes) bytes down")
        #expect(secondBytes >= 2_000_000 && secondBytes < 2_300_000, "second device: \(secondBytes) bytes down")
        print("DHCP reuse: first device \(Int(firstBytes)) bytes down (1 MB moved), second \(Int(secondBytes)) (2 MB moved)")
    }
}
