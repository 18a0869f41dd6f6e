import Foundation
import Lab
import Testing

/// WiFi at arrival in the three-namespace lab: the guest's phone, captured, checks in
/// online through the portal and, once arrived, reaches the internet for the stay
/// (real nftables set, real neighbour table, real SQLite), also after a crash.
@Suite("check-in: WiFi at arrival in the three-namespace lab", .serialized)
struct ArrivalWiFiLabTests {
    static let portal = "http://\(NetworkLab.gatewayLANIPv4):8080"

    /// GETs a step and sends its form with `fields`; returns the 303's Location.
    func submit(_ guest: Guest, _ path: String, _ fields: [(String, String)] = []) throws -> String {
        let page = try guest.get(Self.portal + path)
        #expect(page.status == 200, "\(path): \(page.body)")
        let answer = try guest.post(Self.portal + path, form: [("csrf", try Guest.formToken(in: page.body))] + fields)
        #expect(answer.status == 303, "\(path): \(answer.status) \(answer.body)")
        return answer.headers["location"] ?? ""
    }

    func hidden(_ name: String, in html: String) throws -> String {
        let range = try #require(html.range(of: "name=\"\(name)\" value=\"[^\"]*\"", options: .regularExpression))
        return String(html[range].split(separator: "\"")[3])
    }

    @Test("a captured guest checks in online from the phone, arrives, and is online until check-out; a crash keeps it")
    func checkinBringsWiFi() throws {
        let lab = try NetworkLab()
        defer { lab.destroy() }
        try lab.startUpstreamWebServer()
        let portald = try Portald(lab: lab, extra: """

            [arrivals]
            registration = "basic"
            checkout_time = "11:00"
            wifi_grace_minutes = 60
            """)
        try portald.start()
        defer { try? portald.stop() }
        let departure = utcDay(3)
        let file = Scratch.directory.appendingPathComponent("lab-reservation-\(UUID()).json")
        try Data("""
            {"id": "R7", "reference": "BKG-LAB7", "status": "confirmed", "arrival": "\(utcDay(0))", "departure": "\(departure)",
             "room": "101", "adults": 1, "version": 1,
             "guests": [{"first_name": "Anna", "last_name": "Müller", "email": "anna@example.com", "primary": true}]}
            """.utf8).write(to: file)
        let put = try portald.cli(["reservations", "put", file.path]).stdout
        let link = try #require(put.components(separatedBy: "check-in link (shown once): ").last?.trimmingCharacters(in: .whitespacesAndNewlines))
        let token = try #require(URL(string: link)?.lastPathComponent)
        #expect(link == "\(Self.portal)/arrive/\(token)", "links point at the portal without [arrivals] public_url")

        // Captured; the splash page offers check-in, as a booking arrives today.
        let guest = Guest(lab: lab)
        let upstream = "http://\(NetworkLab.upstreamIPv4)/"
        #expect(try guest.get(upstream).status == 302)
        let splash = try guest.get(Self.portal + "/")
        #expect(splash.body.contains("Check in online") && splash.body.contains(#"href="/arrive""#))

        // The steps, as the phone's browser walks them.
        let welcome = try guest.get(link)
        #expect(welcome.status == 200 && welcome.body.contains("BKG-LAB7"))
        #expect(try submit(guest, "/arrive/\(token)/confirm") == "/arrive/\(token)/details")
        #expect(try submit(guest, "/arrive/\(token)/details", [("first_name", "Anna"), ("last_name", "Müller")]) == "/arrive/\(token)/companions")
        let terms = try guest.get(Self.portal + "/arrive/\(token)/terms")
        let signed = try guest.post(Self.portal + "/arrive/\(token)/terms", form: [
            ("csrf", try Guest.formToken(in: terms.body)), ("terms_sha256", try hidden("terms_sha256", in: terms.body)), ("name", "Anna Müller")])
        #expect(signed.status == 303 && signed.headers["location"] == "/arrive/\(token)/arrive", "\(signed.body)")
        #expect(try guest.get(upstream).status == 302, "not online before arriving")
        #expect(try submit(guest, "/arrive/\(token)/arrive") == "/arrive/\(token)/done")

        // Online: the done page says until when, the internet answers, the set holds the phone.
        let done = try guest.get(Self.portal + "/arrive/\(token)/done")
        #expect(done.body.contains("This device is on the WiFi until") && done.body.contains("12:00"), "11:00 check-out + 60 minutes, UTC: \(done.body)")
        let online = try guest.get(upstream)
        #expect(online.status == 200 && online.body.contains("upstream-ok"))
        let set = try lab.gateway.exec(["nft", "list", "set", "inet", "portald", "authorized"]).stdout
        #expect(set.range(of: #"02:00:00:00:00:10 \. 192\.0\.2\.10 timeout [23]d"#, options: .regularExpression) != nil,
                "until 12:00 UTC three days on: \(set)")
        let clients = try JSONSerialization.jsonObject(with: Data(try portald.cli(["clients", "--json"]).stdout.utf8)) as? [String: Any]
        let session = try #require((clients?["clients"] as? [[String: Any]])?.first)
        #expect(session["method"] as? String == "arrival")
        #expect((session["subject"] as? [String: Any])?["id"] as? String == "R7")
        #expect((session["expires_at"] as? String) == "\(departure)T12:00:00Z")

        // The guest's data (GDPR access) includes the stay's WiFi: the device and its session.
        let exported = try portald.cli(["reservations", "export", "R7"]).stdout
        let data = try #require(try JSONSerialization.jsonObject(with: Data(exported.utf8)) as? [String: Any], "\(exported)")
        let wifi = try #require(data["wifi_sessions"] as? [[String: Any]])
        #expect(wifi.count == 1 && wifi.first?["mac"] as? String == NetworkLab.guestMAC && wifi.first?["ended_at"] is NSNull, "\(exported)")

        // A crash and a restart keep the phone online for the stay.
        try portald.kill()
        try portald.start()
        #expect(try guest.get(upstream).body.contains("upstream-ok"))
        #expect(try guest.get(Self.portal + "/arrive/\(token)/done").body.contains("This device is on the WiFi until"))
    }
}
