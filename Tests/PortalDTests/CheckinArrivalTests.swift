import Arrivals
import Crypto
import Foundation
import HTTPServer
import Lab
import Outbox
@testable import PortalD
import Testing

/// The last steps of check-in over HTTP: the terms a guest signs (and what exactly),
/// and arriving: once, whatever the repeats; never too early or incomplete.
@Suite("check-in: terms and arrive")
struct CheckinArrivalTests {
    typealias Harness = CheckinStepsTests.Harness
    func text(_ response: HTTPResponse) -> String { CheckinStepsTests.text(response) }

    /// Confirms and gives the primary guest's details (basic profile).
    func detailsGiven(_ lab: Harness, _ token: String, client: String = "192.0.2.10") throws {
        #expect(try lab.submit("/arrive/\(token)/confirm", [], client: client).status == 303)
        #expect(try lab.submit("/arrive/\(token)/details", [("first_name", "Anna"), ("last_name", "Müller")], client: client).status == 303)
    }

    func signed(_ lab: Harness, _ token: String, client: String = "192.0.2.10") throws {
        let page = lab.get("/arrive/\(token)/terms", client: client)
        let response = lab.post("/arrive/\(token)/terms", [("csrf", try CheckinStepsTests.csrf(of: page)), ("terms_sha256", try hidden("terms_sha256", in: page)),
                                                          ("name", "Anna Müller")], client: client)
        #expect(response.status == 303 && response.headers["location"] == "/arrive/\(token)/arrive", "\(text(response))")
    }

    func fields(_ value: JSONValue?) -> [String: JSONValue] {
        if case .object(let object)? = value { object } else { [:] }
    }

    func hidden(_ name: String, in page: HTTPResponse) throws -> String {
        let html = text(page)
        let range = try #require(html.range(of: "name=\"\(name)\" value=\"[^\"]*\"", options: .regularExpression))
        return String(html[range].split(separator: "\"")[3])
    }

    /// The text of HTML as a browser reads it: entities decoded.
    static func unescaped(_ html: String) -> String {
        var out = html
        for (entity, character) in [("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"), ("&#x27;", "'"), ("&#x2F;", "/"), ("&#47;", "/")] {
            out = out.replacingOccurrences(of: entity, with: character)
        }
        return out.replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test("terms: the signature keeps the typed name, time, address, user agent, version and the SHA-256 of the very text served; marketing is its own unticked choice")
    func termsSigned() throws {
        let lab = try Harness(fields: "terms_version = \"2026-11\"")
        let token = try lab.book()
        #expect(lab.get("/arrive/\(token)/terms").headers["location"] == "/arrive/\(token)/confirm", "terms wait for the earlier steps")
        try detailsGiven(lab, token)
        let page = lab.get("/arrive/\(token)/terms")
        let html = text(page)
        let served = try #require(html.firstMatch(of: /id="terms-text"[^>]*>([^<]*)<\/div>/)).1
        let hash = Crypto.sha256(Array(Self.unescaped(String(served)).utf8)).hexString
        #expect(try hidden("terms_sha256", in: page) == hash)
        #expect(Self.unescaped(String(served)).contains("Smoking is not allowed anywhere inside Hotel Test."))
        #expect(html.contains(#"<input type="checkbox" id="f-marketing" name="marketing" value="yes">"#), "not ticked, not required")
        #expect(html.contains("Version 2026-11"))

        let csrf = try CheckinStepsTests.csrf(of: page)
        let wrongName = lab.post("/arrive/\(token)/terms", [("csrf", csrf), ("terms_sha256", hash), ("name", "Bob")])
        #expect(wrongName.status == 422 && text(wrongName).contains("Please type your name as in your details: Anna Müller."))
        let otherText = lab.post("/arrive/\(token)/terms", [("csrf", csrf), ("terms_sha256", String(repeating: "0", count: 64)), ("name", "Anna Müller")])
        #expect(otherText.status == 409 && text(otherText).contains("updated"))
        #expect(try lab.events("arrival.terms_signed").isEmpty)

        lab.clock.now += 60
        let signed = lab.post("/arrive/\(token)/terms", [("csrf", csrf), ("terms_sha256", hash), ("name", "  anna MULLER ")],
                              headers: [("User-Agent", "Mozilla/5.0 (iPhone)")])
        #expect(signed.status == 303)
        let signature = try #require(try lab.checkins.progress(reservationID: "R1").terms)
        #expect(signature == TermsSignature(name: "anna MULLER", signedAt: lab.clock.now, clientAddress: "192.0.2.10", userAgent: "Mozilla/5.0 (iPhone)",
                                            language: "en", termsVersion: "2026-11", termsSHA256: hash, marketing: false))
        let event = fields(try lab.events("arrival.terms_signed").first)
        #expect(event["terms_sha256"] == .string(hash) && event["marketing_consent"] == false && event["name"] == "anna MULLER")
        #expect(text(lab.get("/arrive/\(token)/terms")).contains(#"value="anna MULLER""#), "back finds the signature")

        let again = lab.post("/arrive/\(token)/terms", [("csrf", csrf), ("terms_sha256", hash), ("name", "Anna Müller"), ("marketing", "yes")])
        let consented = try lab.checkins.progress(reservationID: "R1").terms?.marketing
        #expect(again.status == 303 && consented == true)
        #expect(fields(try lab.events("arrival.terms_signed").last)["marketing_consent"] == true, "consent only when ticked")
        #expect(text(lab.get("/arrive/\(token)/terms")).contains(#"name="marketing" value="yes" checked>"#))
        let longAgent = String(repeating: "é", count: 400)
        _ = lab.post("/arrive/\(token)/terms", [("csrf", csrf), ("terms_sha256", hash), ("name", "Anna Müller")], headers: [("User-Agent", longAgent)])
        #expect(try lab.checkins.progress(reservationID: "R1").terms?.userAgent.utf8.count == 500, "a user agent is kept to 500 bytes")
        let bidi = lab.post("/arrive/\(token)/terms", [("csrf", csrf), ("terms_sha256", hash), ("name", "Anna \u{202E}Müller")])
        #expect(bidi.status == 422, "no direction overrides in a signature")
    }

    @Test("arrive: refused before the day and while anything is missing (the page lists it); then once, with one event")
    func arriveRefusedThenOnce() throws {
        let lab = try Harness()
        let token = try lab.book()
        let empty = text(lab.get("/arrive/\(token)/arrive"))
        #expect(empty.contains("Confirm your booking") && empty.contains("Your details: First name") && empty.contains("Sign the terms of stay"))
        #expect(!empty.contains("Check in now"), "no button while something is missing")
        try detailsGiven(lab, token)
        try signed(lab, token)
        let early = lab.get("/arrive/\(token)/arrive")
        #expect(text(early).contains("You can check in online from December 1, 2026.") && !text(early).contains("Check in now"))
        // No button, but a form token of any step of this booking would do: the server refuses.
        let tooEarly = lab.post("/arrive/\(token)/arrive", [("csrf", try CheckinStepsTests.csrf(of: lab.get("/arrive/\(token)/confirm")))])
        #expect(tooEarly.status == 409 && text(tooEarly).contains("You can check in online from December 1, 2026."))
        #expect(try lab.reservations.get(id: "R1")?.reservation.status == .confirmed)

        lab.clock.now = Date(timeIntervalSince1970: 1_796_119_200)  // 2026-12-01 11:00 in Madrid
        let ready = lab.get("/arrive/\(token)/arrive")
        #expect(text(ready).contains("Check in now"))
        let csrf = try CheckinStepsTests.csrf(of: ready)
        let first = lab.post("/arrive/\(token)/arrive", [("csrf", csrf)])
        #expect(first.status == 303 && first.headers["location"] == "/arrive/\(token)/done")
        #expect(lab.post("/arrive/\(token)/arrive", [("csrf", csrf)]).headers["location"] == "/arrive/\(token)/done", "a double tap: the same answer")
        #expect(try lab.reservations.get(id: "R1")?.reservation.status == .inHouse)
        let events = try lab.events("arrival.arrived")
        #expect(events.count == 1 && fields(events.first)["via"] == "guest" && fields(events.first)["room"] == "214")
        let done = text(lab.get("/arrive/\(token)/done"))
        #expect(done.contains("You are checked in") && done.contains("Room 214"))
        #expect(lab.get("/arrive/\(token)/arrive").headers["location"] == "/arrive/\(token)/done")
        #expect(lab.get("/arrive/\(token)").headers["location"] == "/arrive/\(token)/done", "the link itself now leads to done")
    }

    @Test("20 concurrent arrives: one in_house, one event, every guest sees done")
    func concurrentArrives() throws {
        let lab = try Harness(fields: "early_arrival_days = 30")
        let token = try lab.book()
        try detailsGiven(lab, token)
        try signed(lab, token)
        let csrf = try CheckinStepsTests.csrf(of: lab.get("/arrive/\(token)/arrive"))
        let locations = together(20) { _ in lab.post("/arrive/\(token)/arrive", [("csrf", csrf)]).headers["location"] }
        #expect(locations == Array(repeating: "/arrive/\(token)/done", count: 20))
        #expect(try lab.events("arrival.arrived").count == 1)
        #expect(try lab.reservations.get(id: "R1")?.reservation.status == .inHouse)
    }

    @Test("the domain refuses a cancelled reservation, an incomplete check-in and an early one, each with its reason")
    func refusals() throws {
        let lab = try Harness(fields: "early_arrival_days = 2")
        _ = try lab.book()
        lab.clock.now = Date(timeIntervalSince1970: 1_795_960_800)  // 2026-11-29 15:00 in Madrid: 2 days early is from the 29th
        #expect(throws: Checkins.ArrivalRefusal.incomplete(Checkins.Missing(confirmation: true, details: [.firstName, .lastName], terms: true))) {
            try lab.checkins.arrive(reservationID: "R1", key: "k", via: "api")
        }
        lab.clock.now = Date(timeIntervalSince1970: 1_795_874_400)  // 2026-11-28 15:00
        #expect(throws: Checkins.ArrivalRefusal.tooEarly(opens: LocalDate("2026-11-29")!)) {
            try lab.checkins.arrive(reservationID: "R1", key: "k", via: "api")
        }
        var cancelled = try #require(try lab.reservations.get(id: "R1")).reservation
        cancelled.status = .cancelled
        try lab.reservations.put(cancelled, source: "test")
        #expect(throws: Checkins.ArrivalRefusal.notArrivable(.cancelled)) { try lab.checkins.arrive(reservationID: "R1", key: "k", via: "api") }
        #expect(throws: Checkins.ArrivalRefusal.notFound) { try lab.checkins.arrive(reservationID: "nope", key: nil, via: "api") }
        #expect(try lab.events("arrival.arrived").isEmpty)
    }

    @Test("arrived once stays arrived: a PMS update that sets the status back does not open a second arrival; a stay that is over is refused")
    func arrivedOnce() throws {
        let lab = try Harness(fields: "early_arrival_days = 30")
        let token = try lab.book()
        try detailsGiven(lab, token)
        try signed(lab, token)
        let first = try lab.checkins.arrive(reservationID: "R1", key: "k1", via: "api")
        #expect(first.changed && first.idempotencyKey == "k1")
        var stale = try #require(try lab.reservations.get(id: "R1")).reservation
        stale.status = .confirmed
        stale.room = "215"  // sent by the PMS before it heard of the arrival
        try lab.reservations.store.pool.write { db in _ = try lab.reservations.put(stale, source: "inbound:pms", enforceMoves: false, in: db) }
        let again = try lab.checkins.arrive(reservationID: "R1", key: "k2", via: "api")
        #expect(!again.changed && again.arrivedAt == first.arrivedAt && again.idempotencyKey == "k1")
        #expect(try lab.events("arrival.arrived").count == 1)
        #expect(lab.get("/arrive/\(token)/arrive").headers["location"] == "/arrive/\(token)/done", "the pages know it too")

        let late = try Harness()
        _ = try late.book("R2")
        late.clock.now = Date(timeIntervalSince1970: 1_796_464_800)  // 2026-12-05 11:00 in Madrid: departure was the 4th
        #expect(throws: Checkins.ArrivalRefusal.stayOver) { try late.checkins.arrive(reservationID: "R2", key: nil, via: "api") }
    }
}
