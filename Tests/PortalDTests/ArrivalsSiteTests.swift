import Arrivals
import Firewall
import Foundation
import HTTPServer
@testable import PortalD
import Testing

/// `[arrivals] listen`: check-in alone for guests at home, behind the hotel's reverse
/// proxy; the guest's address from a trusted proxy's X-Forwarded-For; "find my
/// booking" for a family's several stays; lookups that answer in constant time.
@Suite("check-in: the arrivals listener and finding a booking")
struct ArrivalsSiteTests {
    typealias Harness = CheckinStepsTests.Harness
    func text(_ response: HTTPResponse) -> String { CheckinStepsTests.text(response) }
    static let proxy = "198.51.100.5"

    @Test("X-Forwarded-For is read from the right, only from a trusted proxy, and garbage stops it")
    func forwardedFor() {
        let forwarded = ForwardedFor(trusted: ["198.51.100.5", "2001:DB8::5", "198.51.100.6"])
        func client(_ peer: String, _ headers: [(String, String)]) -> String {
            forwarded.client(of: HTTPRequest(method: .get, target: "/", headers: HTTPHeaders(headers), clientAddress: peer))
        }
        #expect(client("198.51.100.5", [("X-Forwarded-For", "203.0.113.7")]) == "203.0.113.7")
        #expect(client("203.0.113.9", [("X-Forwarded-For", "203.0.113.7")]) == "203.0.113.9", "not a trusted proxy: its header is the client's own")
        #expect(client("198.51.100.5", [("X-Forwarded-For", "192.0.2.66, 203.0.113.7")]) == "203.0.113.7", "the left part is the guest's to write")
        #expect(client("198.51.100.5", [("X-Forwarded-For", "203.0.113.7, 198.51.100.6")]) == "203.0.113.7", "a chain of trusted proxies")
        #expect(client("2001:db8::5", [("x-forwarded-for", "2001:DB8:1::7")]) == "2001:db8:1::7")
        #expect(client("198.51.100.5", [("X-Forwarded-For", "192.0.2.66"), ("X-Forwarded-For", "203.0.113.7")]) == "203.0.113.7",
                "a proxy that adds a field of its own")
        #expect(client("198.51.100.5", [("X-Forwarded-For", "203.0.113.7, <script>")]) == "198.51.100.5", "no address: the proxy stands")
        #expect(client("198.51.100.5", []) == "198.51.100.5")
        #expect(client("198.51.100.5", [("X-Forwarded-For", "203.0.113.7:51234")]) == "203.0.113.7", "a proxy that adds the port")
        #expect(client("198.51.100.5", [("X-Forwarded-For", "[2001:db8:1::7]:443")]) == "2001:db8:1::7")
        #expect(client("198.51.100.5", [("X-Forwarded-For", "::ffff:203.0.113.7")]) == "203.0.113.7")
        #expect(client("198.51.100.5", [("X-Forwarded-For", "1.2.3")]) == "198.51.100.5", "not an address")
        #expect(client("198.51.100.5", [("X-Forwarded-For", "abc:def")]) == "198.51.100.5", "hex and a colon, no address")
        // The config's spelling of a proxy need not be the kernel's.
        let spelled = ForwardedFor(trusted: ["2001:0DB8:0000::0005"])
        #expect(spelled.client(of: HTTPRequest(method: .get, target: "/", headers: HTTPHeaders([("X-Forwarded-For", "203.0.113.7")]),
                                               clientAddress: "2001:db8::5")) == "203.0.113.7")
    }

    @Test("the listener serves check-in only: no splash, login or captive API, and arriving through it lets no device on")
    func checkinOnly() throws {
        // The proxy is on the guest LAN here: even so, nothing it forwards authorizes a device.
        let lab = try Harness(fields: #"trusted_proxies = ["\#(Self.proxy)"]"#, neighbours: [(Self.proxy, "02:00:00:00:00:05"), ("192.0.2.10", "02:00:00:00:00:10")])
        #expect(lab.get("/", site: true).headers["location"] == "/arrive")
        #expect(lab.get("/?lang=de", site: true).headers["location"] == "/arrive?lang=de")
        #expect(text(lab.get("/arrive", site: true)).contains("name=\"reference\""))
        for path in ["/api/captive", "/status", "/login/terms"] {
            #expect(lab.get(path, site: true).status == 404 || lab.get(path, site: true).status == 405, "\(path) is the portal's")
        }
        #expect(lab.get("/generate_204", client: "192.0.2.10", headers: [("Host", "connectivitycheck.gstatic.com")], site: true).status == 404,
                "nothing is captured here")

        let token = try lab.book(adults: 1)
        let forwarded = [("X-Forwarded-For", "192.0.2.10")]
        for (step, fields) in [("confirm", []), ("details", [("first_name", "Anna"), ("last_name", "Müller")])] as [(String, [(String, String)])] {
            #expect(try lab.submit("/arrive/\(token)/\(step)", fields, client: Self.proxy, headers: forwarded, site: true).status == 303)
        }
        let terms = lab.get("/arrive/\(token)/terms", client: Self.proxy, headers: forwarded, site: true)
        let signed = lab.post("/arrive/\(token)/terms", [("csrf", try CheckinStepsTests.csrf(of: terms)),
                                                        ("terms_sha256", try CheckinArrivalTests().hidden("terms_sha256", in: terms)), ("name", "Anna Müller")],
                              client: Self.proxy, headers: forwarded, site: true)
        #expect(signed.status == 303)
        lab.clock.now = ArrivalWiFiTests.arrivalDay
        let arrived = try lab.submit("/arrive/\(token)/arrive", [], client: Self.proxy, headers: forwarded, site: true)
        #expect(arrived.status == 303 && arrived.headers["location"] == "/arrive/\(token)/done")
        #expect(try lab.sessions.activeSessions().isEmpty, "no device let on through the arrivals listener")
        let done = text(lab.get("/arrive/\(token)/done", client: Self.proxy, headers: forwarded, site: true))
        #expect(done.contains("You are checked in") && !done.contains("Connect this device"))
        #expect(done.contains("At the hotel, join the WiFi"), "at home, the page says where the stay's WiFi is")
        #expect(try lab.checkins.progress(reservationID: "R1").terms?.clientAddress == "192.0.2.10", "the signature records the guest, not the proxy")
        // The same booking on the portal listener (the guest now on the hotel's WiFi) offers the WiFi.
        #expect(text(lab.get("/arrive/\(token)/done", client: "192.0.2.10")).contains("Connect this device"))
    }

    @Test("wrong links are counted per forwarded guest, not per proxy")
    func throttledPerGuest() throws {
        let lab = try Harness(fields: #"trusted_proxies = ["\#(Self.proxy)"]"#)
        for _ in 0..<Portal.guessesPerMinute {
            #expect(lab.get("/arrive/wrongwrongwrongwrongwrong", client: Self.proxy, headers: [("X-Forwarded-For", "203.0.113.7")], site: true).status == 404)
        }
        #expect(lab.get("/arrive/wrongwrongwrongwrongwrong", client: Self.proxy, headers: [("X-Forwarded-For", "203.0.113.7")], site: true).status == 429)
        #expect(lab.get("/arrive/wrongwrongwrongwrongwrong", client: Self.proxy, headers: [("X-Forwarded-For", "203.0.113.8")], site: true).status == 404,
                "another guest behind the same proxy is not locked out")
    }

    @Test("a family's several stays under one reference, name and day: the guest chooses; every answer takes the floor")
    func chooseStay() throws {
        let lab = try Harness()
        for (id, room) in [("F1", "101"), ("F2", "102")] {
            _ = try lab.reservations.put(Reservation(
                id: id, reference: "FAM-7", status: .confirmed, arrival: LocalDate("2026-12-01")!, departure: LocalDate("2026-12-04")!,
                room: room, adults: 2, children: 0, guests: [.init(firstName: id == "F1" ? "Anna" : "Ben", lastName: "Müller", primary: true),
                                                             .init(firstName: "Carla", lastName: "Rossi", primary: false)]), source: "test")
        }
        func lookUp(_ fields: [(String, String)]) throws -> (HTTPResponse, Duration) {
            let page = lab.get("/arrive", client: "203.0.113.20")
            let started = ContinuousClock.now
            let answer = lab.post("/arrive", [("csrf", try CheckinStepsTests.csrf(of: page))] + fields, client: "203.0.113.20")
            return (answer, ContinuousClock.now - started)
        }
        let (askDate, askTime) = try lookUp([("reference", "fam 7"), ("surname", "muller")])
        #expect(askDate.status == 200 && text(askDate).contains("name=\"arrival\""))
        let (choose, chooseTime) = try lookUp([("reference", "FAM-7"), ("surname", "Müller"), ("arrival", "2026-12-01")])
        let page = text(choose)
        #expect(choose.status == 200 && page.contains("Which stay is yours?") && page.contains("Room 101") && page.contains("Room 102"), "\(page)")
        #expect(page.contains("Anna Müller") && page.contains("Ben Müller"))
        #expect(!page.contains("Carla"), "a name the guest did not type is not shown")
        let links = page.ranges(of: #/href="(/arrive/[^"?]+)"/#).map { String(page[$0].dropFirst(6).dropLast()) }
        #expect(links.count == 2)
        #expect(text(lab.get(links[1], client: "203.0.113.20")).contains("Room 102"), "each choice opens its own stay")
        let (none, noneTime) = try lookUp([("reference", "FAM-8"), ("surname", "Müller")])
        #expect(none.status == 404)
        for time in [askTime, chooseTime, noneTime] {
            #expect(time >= ArrivalsController.answerFloor, "an answer under the floor: \(time)")
        }
    }
}
