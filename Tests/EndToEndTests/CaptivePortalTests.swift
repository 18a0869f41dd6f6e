import Foundation
import Testing
import Lab

/// The walking skeleton, end to end: a guest namespace behind a gateway namespace
/// running the real portald (real nftables, real libmicrohttpd, real SQLite),
/// reaching an upstream namespace that stands for the internet.
@Suite("captive portal in the three-namespace lab", .serialized)
struct CaptivePortalTests {
    let upstream = "http://\(NetworkLab.upstreamIPv4)/"

    /// Follows the captive redirect to the splash page and accepts the terms.
    func logIn(_ guest: Guest, from url: String) throws -> (status: Int, headers: [String: String], body: String) {
        let captured = try guest.get(url)
        #expect(captured.status == 302)
        let splash = try guest.get(try #require(captured.headers["location"]))
        #expect(splash.status == 200)
        let destination = try #require(URLComponents(string: captured.headers["location"]!)?.queryItems?.first { $0.name == "url" }?.value)
        return try guest.post("http://\(NetworkLab.gatewayLANIPv4):8080/login/terms",
                              form: [("csrf", try Guest.formToken(in: splash.body)), ("url", destination), ("accept", "yes")])
    }

    func isOnline(_ guest: Guest) throws -> Bool {
        let answer = try guest.get(upstream)
        return answer.status == 200 && answer.body.contains("upstream-ok")
    }

    @Test("captured, logs in, online; deauth captures again; restarts and crashes lose no guest")
    func walkingSkeleton() throws {
        let lab = try NetworkLab()
        defer { lab.destroy() }
        try lab.startUpstreamWebServer()
        let portald = try Portald(lab: lab)
        try portald.start()
        defer { try? portald.stop() }
        let guest = Guest(lab: lab)

        // Captured: any web request is redirected to the portal, its URL kept.
        let captured = try guest.get(upstream + "some/page?x=1&y=two")
        #expect(captured.status == 302)
        #expect(captured.headers["location"] == "http://192.0.2.1:8080/?url=http%3A%2F%2F198.51.100.2%2Fsome%2Fpage%3Fx%3D1%26y%3Dtwo")

        // Every OS probe meets the redirect (none gets its "online" answer).
        for (host, path) in [("captive.apple.com", "/hotspot-detect.html"), ("connectivitycheck.gstatic.com", "/generate_204"),
                             ("www.msftconnecttest.com", "/connecttest.txt"), ("detectportal.firefox.com", "/canonical.html")] {
            let probe = try guest.get("http://\(NetworkLab.upstreamIPv4)\(path)", host: host)
            #expect(probe.status == 302, "\(host) probe was not redirected")
            #expect(probe.headers["location"]?.hasPrefix("http://192.0.2.1:8080/?url=http%3A%2F%2F\(host)") == true)
        }

        // HTTPS is refused at once (TCP reset), not left to time out.
        let started = ContinuousClock.now
        let https = try lab.guestCurl(["-o", "/dev/null", "https://\(NetworkLab.upstreamIPv4)/"])
        #expect(https.status == 7, "expected connection refused, got curl exit \(https.status)")
        #expect(ContinuousClock.now - started < .seconds(2))

        // Other traffic to the internet is dropped (curl times out: exit 28).
        let otherPort = try lab.guest.exec(["curl", "-s", "--max-time", "1", "http://\(NetworkLab.upstreamIPv4):8000/"], check: false)
        #expect(otherPort.status == 28, "port 8000 reachable before login (curl exit \(otherPort.status))")

        // RFC 8908 API: captive.
        let captiveBefore = try guest.get("http://192.0.2.1:8080/api/captive")
        #expect(captiveBefore.headers["content-type"] == "application/captive+json")
        #expect(captiveBefore.body.contains(#""captive":true"#))
        #expect(captiveBefore.body.contains(#""user-portal-url":"http://192.0.2.1:8080/""#))

        // Log in with the terms form.
        let online = try logIn(guest, from: upstream + "welcome")
        #expect(online.status == 200)
        #expect(online.body.contains("You are online"))
        #expect(online.body.contains("href=\"http://198.51.100.2/welcome\""))

        // Online: the upstream server answers, probes reach the internet, the set holds the device.
        #expect(try isOnline(guest))
        #expect(try lab.guestCurl(["http://\(NetworkLab.upstreamIPv4):8000/"]).stdout.contains("upstream-ok"))
        let probe = try guest.get("http://\(NetworkLab.upstreamIPv4)/generate_204", host: "connectivitycheck.gstatic.com")
        #expect(probe.headers["server"]?.contains("SimpleHTTP") == true, "probe still captured after login")
        let set = try lab.gateway.exec(["nft", "list", "set", "inet", "portald", "authorized"]).stdout
        #expect(set.contains("02:00:00:00:00:10 . 192.0.2.10 timeout 1d expires"), "set: \(set)")
        let captiveAfter = try guest.get("http://192.0.2.1:8080/api/captive")
        #expect(captiveAfter.body.contains(#""captive":false"#))
        #expect(captiveAfter.body.contains(#""seconds-remaining":86"#))

        // The CLI lists it, with typed JSON.
        let clients = try portald.cli(["clients", "--json"]).stdout
        #expect(clients.contains(#""mac":"02:00:00:00:00:10""#))
        #expect(clients.contains(#""seconds_remaining":86"#))

        // A clean restart (SIGTERM, table removed, then reinstalled) keeps the guest online.
        try portald.stop()
        #expect(try lab.gateway.exec(["nft", "list", "tables"]).stdout.isEmpty, "table left after a clean stop")
        try portald.start()
        #expect(try isOnline(guest))

        // A crash (SIGKILL) and restart keeps the guest online too.
        try portald.kill()
        try portald.start()
        #expect(try isOnline(guest))
        #expect(try lab.gateway.exec(["nft", "list", "set", "inet", "portald", "authorized"]).stdout.contains("02:00:00:00:00:10"))

        // Deauth: captured again, and recorded.
        let deauth = try portald.cli(["deauth", NetworkLab.guestMAC])
        #expect(deauth.stdout.contains("deauthorized 02:00:00:00:00:10"))
        #expect(try guest.get(upstream).status == 302)
        #expect(try portald.cli(["clients"]).stdout.contains("no devices online"))
        let again = try portald.cli(["deauth", NetworkLab.guestMAC], check: false)
        #expect(again.status == 1)
        #expect(again.stderr.contains("no active session for 02:00:00:00:00:10"))

        // Staff can let the device on from the CLI (MAC looked up in the neighbour table).
        let auth = try portald.cli(["auth", NetworkLab.guestMAC, "--minutes", "30"])
        #expect(auth.stdout.contains("authorized 02:00:00:00:00:10 (192.0.2.10)"))
        #expect(try isOnline(guest))
        #expect(try lab.gateway.exec(["nft", "list", "set", "inet", "portald", "authorized"]).stdout.contains("timeout 30m"))

        try portald.stop()
    }

    @Test("bad login attempts are refused with a page, and nothing is authorized")
    func refusedLogins() throws {
        let lab = try NetworkLab()
        defer { lab.destroy() }
        let portald = try Portald(lab: lab)
        try portald.start()
        defer { try? portald.stop() }
        let guest = Guest(lab: lab)
        let login = "http://192.0.2.1:8080/login/terms"

        let forged = try guest.post(login, form: [("csrf", "forged"), ("accept", "yes")])
        #expect(forged.status == 403)
        #expect(forged.body.contains("expired"))

        let splash = try guest.get("http://192.0.2.1:8080/")
        let notAccepted = try guest.post(login, form: [("csrf", try Guest.formToken(in: splash.body))])
        #expect(notAccepted.status == 400)
        #expect(notAccepted.body.contains("Please accept the terms"))

        let oversized = try lab.guest.exec(["sh", "-c", "head -c 200000 /dev/zero | curl -s -o /dev/null -w '%{http_code}' --data-binary @- \(login)"], check: false)
        #expect(oversized.stdout == "413")

        let missing = try guest.get("http://192.0.2.1:8080/nope")
        #expect(missing.status == 404)
        let wrongMethod = try guest.get("http://192.0.2.1:8080/login/terms")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.headers["allow"] == "POST")

        #expect(try portald.cli(["clients"]).stdout.contains("no devices online"))
        #expect(!(try lab.gateway.exec(["nft", "list", "set", "inet", "portald", "authorized"]).stdout.contains("02:00")))
    }
}
