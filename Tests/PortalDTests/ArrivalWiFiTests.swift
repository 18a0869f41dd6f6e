import Arrivals
import Firewall
import Foundation
import HTTPServer
import Logging
@testable import PortalD
import Testing

/// WiFi at arrival: arriving from a device on the guest LAN lets it on for the stay
/// (until check-out time on the departure day plus the grace period); the done page
/// says so, or offers it to a device that was not there; the splash page offers
/// check-in while bookings arrive.
@Suite("check-in: WiFi at arrival")
struct ArrivalWiFiTests {
    typealias Harness = CheckinStepsTests.Harness
    func text(_ response: HTTPResponse) -> String { CheckinStepsTests.text(response) }

    static let phone = ("192.0.2.10", "02:00:00:00:00:10")
    static let tablet = ("192.0.2.11", "02:00:00:00:00:11")
    /// 2026-12-01 11:00 in Madrid: the arrival day.
    static let arrivalDay = Date(timeIntervalSince1970: 1_796_119_200)
    /// 2026-12-04 12:00 in Madrid (check-out) plus the default 120 minutes.
    static let stayEnds = Date(timeIntervalSince1970: 1_796_389_200)

    /// A one-adult booking with details and terms done, on its arrival day; its token.
    func readyToArrive(_ lab: Harness) throws -> String {
        let token = try lab.book(adults: 1)
        try CheckinArrivalTests().detailsGiven(lab, token, client: Self.phone.0)
        try CheckinArrivalTests().signed(lab, token, client: Self.phone.0)
        lab.clock.now = Self.arrivalDay
        return token
    }

    func arrive(_ lab: Harness, _ token: String, from client: String) throws -> HTTPResponse {
        try lab.submit("/arrive/\(token)/arrive", [], client: client)
    }

    @Test("arriving from the guest LAN lets that device on until check-out plus the grace period, bound to the reservation")
    func arrivalConnects() throws {
        let lab = try Harness(neighbours: [Self.phone, Self.tablet])
        let token = try readyToArrive(lab)
        let page = lab.get("/arrive/\(token)/arrive", client: Self.phone.0)
        let arrived = lab.post("/arrive/\(token)/arrive", [("csrf", try CheckinStepsTests.csrf(of: page))], client: Self.phone.0)
        #expect(arrived.status == 303 && arrived.headers["location"] == "/arrive/\(token)/done")

        let session = try #require(try lab.sessions.activeSession(mac: MACAddress(Self.phone.1)!))
        #expect(session.method == .arrival && session.subject == .reservation("R1") && session.ipv4 == IPv4Address(Self.phone.0))
        #expect(session.expiresAt == Self.stayEnds, "check-out 12:00 Madrid on the departure day + 120 minutes, not \(session.expiresAt)")
        let done = text(lab.get("/arrive/\(token)/done", client: Self.phone.0))
        #expect(done.contains("This device is on the WiFi until Dec 4, 2026 at 14:00."), "\(done.components(separatedBy: "<body>").last ?? "")")
        #expect(!done.contains("Connect this device"))

        // Arriving again (a double tap) keeps the one session.
        #expect(lab.post("/arrive/\(token)/arrive", [("csrf", try CheckinStepsTests.csrf(of: page))], client: Self.phone.0).status == 303)
        #expect(try lab.sessions.activeSessions().map(\.id) == [session.id])

        // The same page at home (not on the LAN) says how to get online at the hotel, and lets nothing on.
        let away = text(lab.get("/arrive/\(token)/done", client: "203.0.113.7"))
        #expect(away.contains("At the hotel, join the WiFi") && !away.contains("Connect this device"), "\(away)")
    }

    @Test("the done page connects a device that was not there at arrival; forged forms, other bookings and ended stays connect nothing")
    func donePageConnects() throws {
        let lab = try Harness(fields: #"checkout_time = "11:00""#, neighbours: [Self.phone, Self.tablet])
        let token = try readyToArrive(lab)
        // Arrived from home: nothing is let on.
        #expect(try arrive(lab, token, from: "203.0.113.7").status == 303)
        #expect(try lab.sessions.activeSessions().isEmpty)

        // The tablet on the hotel's WiFi had accepted the terms; the done page offers the stay's WiFi.
        let tablet = MACAddress(Self.tablet.1)!
        let terms = try lab.sessions.login(mac: tablet, ipv4: IPv4Address(Self.tablet.0)!, method: .terms)
        let offer = lab.get("/arrive/\(token)/done", client: Self.tablet.0)
        #expect(text(offer).contains("connect this device for your whole stay") && text(offer).contains(#"action="/arrive/\#(token)/wifi""#))

        let forged = lab.post("/arrive/\(token)/wifi", [("csrf", "forged")], client: Self.tablet.0)
        #expect(forged.status == 403 && text(forged).contains("expired"))
        #expect(try lab.sessions.activeSession(mac: tablet)?.method == .terms)

        let connected = lab.post("/arrive/\(token)/wifi", [("csrf", try CheckinStepsTests.csrf(of: offer))], client: Self.tablet.0)
        #expect(connected.status == 303 && connected.headers["location"] == "/arrive/\(token)/done")
        let session = try #require(try lab.sessions.activeSession(mac: tablet))
        #expect(session.id != terms.id && session.method == .arrival && session.subject == .reservation("R1"))
        #expect(session.expiresAt == Self.stayEnds.addingTimeInterval(-3600), "check-out at 11:00 with the grace period")
        #expect(try lab.sessions.session(id: terms.id)?.endReason == .replaced)
        #expect(text(lab.get("/arrive/\(token)/done", client: Self.tablet.0)).contains("This device is on the WiFi until"))

        // From outside the LAN the button's form lets nothing on, even with a good token.
        let outside = lab.get("/arrive/\(token)/done", client: "203.0.113.7")
        let outsideForm = FormToken(key: Array(repeating: 2, count: 32)).issue(purpose: "checkin:R1", client: "203.0.113.7", at: lab.clock.now)
        #expect(lab.post("/arrive/\(token)/wifi", [("csrf", outsideForm)], client: "203.0.113.7").status == 303)
        #expect(try !text(outside).contains("Connect this device") && lab.sessions.activeSessions().count == 1)

        // After the stay's WiFi has ended nothing is offered or let on.
        lab.clock.now = Self.stayEnds
        let phoneOffer = lab.get("/arrive/\(token)/done", client: Self.phone.0)
        #expect(!text(phoneOffer).contains("Connect this device") && !text(phoneOffer).contains("This device is on the WiFi"))
    }

    @Test("a booking that has not arrived cannot connect, and wifi_at_arrival = false lets nothing on")
    func notConnected() throws {
        let lab = try Harness(neighbours: [Self.phone])
        let token = try readyToArrive(lab)
        let csrf = try CheckinStepsTests.csrf(of: lab.get("/arrive/\(token)/confirm", client: Self.phone.0))
        #expect(lab.post("/arrive/\(token)/wifi", [("csrf", csrf)], client: Self.phone.0).headers["location"] == "/arrive/\(token)/arrive")
        #expect(try lab.sessions.activeSessions().isEmpty)

        let off = try Harness(fields: "wifi_at_arrival = false", neighbours: [Self.phone])
        let offToken = try readyToArrive(off)
        #expect(try arrive(off, offToken, from: Self.phone.0).status == 303)
        #expect(try off.sessions.activeSessions().isEmpty)
        let done = text(off.get("/arrive/\(offToken)/done", client: Self.phone.0))
        #expect(done.contains("You are checked in") && !done.contains("id=\"wifi\""), "\(done)")
    }

    @Test("a stay's devices are limited: wifi_devices_per_guest for each adult or child")
    func deviceLimit() throws {
        let lab = try Harness(fields: "wifi_devices_per_guest = 1", neighbours: [Self.phone, Self.tablet])
        let token = try readyToArrive(lab)
        #expect(try arrive(lab, token, from: Self.phone.0).status == 303)
        #expect(try lab.sessions.activeSessions().count == 1)
        let offer = lab.get("/arrive/\(token)/done", client: Self.tablet.0)
        let refused = lab.post("/arrive/\(token)/wifi", [("csrf", try CheckinStepsTests.csrf(of: offer))], client: Self.tablet.0)
        #expect(refused.status == 409 && text(refused).contains("Your stay already has its 1 device on the WiFi"), "\(text(refused))")
        #expect(try lab.sessions.activeSession(mac: MACAddress(Self.tablet.1)!) == nil)
        // The phone connecting again is no second device.
        let again = lab.get("/arrive/\(token)/done", client: Self.phone.0)
        #expect(text(again).contains("This device is on the WiFi until"))
    }

    @Test("a device's longer session (staff's) is kept, not cut to the stay")
    func longerSessionKept() throws {
        let lab = try Harness(neighbours: [Self.phone])
        let token = try readyToArrive(lab)
        let staff = try lab.sessions.login(mac: MACAddress(Self.phone.1)!, ipv4: IPv4Address(Self.phone.0)!, method: .admin, minutes: 30 * 24 * 60)
        #expect(try arrive(lab, token, from: Self.phone.0).status == 303)
        #expect(try lab.sessions.activeSessions().map(\.id) == [staff.id])
        let done = text(lab.get("/arrive/\(token)/done", client: Self.phone.0))
        #expect(done.contains("This device is on the WiFi until Dec 31, 2026") && !done.contains("Connect this device"), "\(done)")
    }

    @Test("the stay's sessions follow the reservation: a longer stay, a check-out, a cancellation, a deletion")
    func sessionsFollowTheStay() throws {
        let lab = try Harness(neighbours: [Self.phone, Self.tablet])
        let token = try readyToArrive(lab)
        #expect(try arrive(lab, token, from: Self.phone.0).status == 303)
        let follower = ArrivalWiFi(config: lab.config, sessions: lab.sessions, lan: nil, logger: Logger(label: "t"))
        #expect(try follower.followStays(lab.reservations) == 0, "nothing to move")

        // The PMS extends the stay by a night: the session's end moves with it.
        var stay = try #require(try lab.reservations.get(id: "R1")).reservation
        stay.departure = LocalDate("2026-12-05")!
        stay.version = nil
        _ = try lab.reservations.put(stay, source: "test")
        #expect(try follower.followStays(lab.reservations) == 1)
        let phone = MACAddress(Self.phone.1)!
        #expect(try lab.sessions.activeSession(mac: phone)?.expiresAt == Self.stayEnds.addingTimeInterval(86_400))

        // Checked out at the desk: the WiFi lasts the grace period from then, no longer.
        lab.clock.now = Self.arrivalDay.addingTimeInterval(86_400)
        stay.status = .checkedOut
        _ = try lab.reservations.put(stay, source: "test")
        #expect(try follower.followStays(lab.reservations) == 1)
        #expect(try lab.sessions.activeSession(mac: phone)?.expiresAt == lab.clock.now.addingTimeInterval(120 * 60))
        #expect(try follower.followStays(lab.reservations) == 0, "stable: moved once")

        // Deleted: ended now.
        #expect(try lab.reservations.delete(id: "R1", source: "test"))
        #expect(try follower.followStays(lab.reservations) == 1)
        #expect(try lab.sessions.activeSession(mac: phone) == nil)
    }

    @Test("the splash page offers check-in while some booking may arrive today, in the guest's language")
    func splashOffersCheckin() throws {
        let before = try Harness()
        _ = try before.book()  // arrives 2026-12-01; the clock is at 2026-11-18
        #expect(!text(before.get("/")).contains("Check in online"))

        let today = try Harness()
        _ = try today.book()
        today.clock.now = Self.arrivalDay
        let splash = text(today.get("/"))
        #expect(splash.contains("Check in online") && splash.contains(#"href="/arrive""#), "\(splash)")
        let german = text(today.get("/?lang=de"))
        #expect(german.contains("Online einchecken") && german.contains(#"href="/arrive?lang=de""#))

        // A site that sells its WiFi: check-in is offered without promising it.
        let selling = try Harness(fields: "wifi_at_arrival = false")
        _ = try selling.book()
        selling.clock.now = Self.arrivalDay
        let plain = text(selling.get("/"))
        #expect(plain.contains("You can check in online.") && !plain.contains("whole stay"))
    }
}
