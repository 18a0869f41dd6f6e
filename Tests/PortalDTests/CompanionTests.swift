import Arrivals
import Foundation
import HTTPServer
import Lab
import Outbox
@testable import PortalD
import Testing

/// Companions over HTTP: places up to adults + children − 1, filled in by the primary
/// guest or claimed through an invite link (with a QR code) that works once and can be
/// revoked; where the law registers everyone, arriving waits for them.
@Suite("check-in: companions")
struct CompanionTests {
    typealias Harness = CheckinStepsTests.Harness
    func text(_ response: HTTPResponse) -> String { CheckinStepsTests.text(response) }

    /// Confirmed, the primary guest's details given: at the companions step.
    func atCompanions(_ lab: Harness, adults: Int = 2, children: Int = 1,
                      details: [(String, String)] = [("first_name", "Anna"), ("last_name", "Müller")]) throws -> String {
        let token = try lab.book(adults: adults, children: children)
        #expect(try lab.submit("/arrive/\(token)/confirm", []).status == 303)
        let details = try lab.submit("/arrive/\(token)/details", details)
        #expect(details.headers["location"] == "/arrive/\(token)/companions")
        return token
    }

    /// Asks for an invite for `place` and returns the link's token.
    func invite(_ lab: Harness, _ token: String, place: Int) throws -> (page: String, claim: String) {
        let companions = lab.get("/arrive/\(token)/companions")
        let response = lab.post("/arrive/\(token)/companions/\(place)/invite", [("csrf", try CheckinStepsTests.csrf(of: companions))])
        #expect(response.status == 200 && response.headers["cache-control"] == "no-store")
        let page = text(response)
        // Built from [arrivals] public_url (here the portal's), never from the request.
        let claim = try #require(page.firstMatch(of: #/href="http://portal\.example:8080/claim/([A-Za-z0-9_-]{24})"/#)).1
        return (page, String(claim))
    }

    @Test("places: adults + children − 1; none beyond; a booking for one skips the step")
    func places() throws {
        let lab = try Harness()
        let token = try atCompanions(lab)
        let page = text(lab.get("/arrive/\(token)/companions"))
        #expect(page.contains("Guest 2") && page.contains("Guest 3") && !page.contains("Guest 4"), "\(page)")
        #expect(lab.get("/arrive/\(token)/companions/3").status == 404 && lab.get("/arrive/\(token)/companions/0").status == 404)
        #expect(lab.get("/arrive/\(token)/companions/2").status == 200)
        #expect(page.contains("Step 3 of 5"))
        let single = try Harness()
        let alone = try atCompanions(single, adults: 1, children: 0)
        #expect(single.get("/arrive/\(alone)/companions").headers["location"] == "/arrive/\(alone)/terms")
        let terms = text(single.get("/arrive/\(alone)/terms"))
        #expect(terms.contains("Step 3 of 4") && terms.contains("href=\"/arrive/\(alone)/details\""), "no companions step to count or go back to")
    }

    @Test("invite → claim once → the companion's own link and details; the invite link then opens nothing; reported")
    func inviteAndClaim() throws {
        let lab = try Harness(registration: "it")
        let token = try atCompanions(lab, details: CheckinStepsTests.britishGuest)
        let (page, claim) = try invite(lab, token, place: 1)
        #expect(page.contains("<svg") && page.contains(#"role="img" aria-label="QR code of the invite link""#) && page.contains("<path fill=\"#000\" d=\"M"))
        let invitation = lab.get("/claim/\(claim)", client: "198.51.100.7")
        #expect(text(invitation).contains("Anna invites you to check in at Hotel Test"))
        #expect(!text(invitation).contains("BKG-R1") && !text(invitation).contains("Müller"), "reference + surname would open the primary's check-in")
        let claimed = lab.post("/claim/\(claim)", [("csrf", try CheckinStepsTests.csrf(of: invitation))], client: "198.51.100.7")
        #expect(claimed.status == 303)
        let own = try #require(claimed.headers["location"])
        #expect(own.hasPrefix("/claim/") && own != "/claim/\(claim)")
        let taken = lab.get("/claim/\(claim)", client: "198.51.100.8")
        #expect(taken.status == 409 && text(taken).contains("This invite was used"), "the invite works once")
        let form = lab.get(own, client: "198.51.100.7")
        #expect(text(form).contains("Your details") && text(form).contains("name=\"place_of_birth\" type=\"text\" value=\"\" maxlength=\"100\" required"))
        #expect(!text(form).contains(#"name="document_type" aria-required="true""#), "a companion needs no document in Italy")
        #expect(text(lab.get("/arrive/\(token)/details")).contains(#"name="document_type" aria-required="true""#), "the primary guest does")
        let refused = lab.post(own, [("csrf", try CheckinStepsTests.csrf(of: form)), ("first_name", "Ben")], client: "198.51.100.7")
        #expect(refused.status == 422)
        let saved = lab.post(own, [("csrf", try CheckinStepsTests.csrf(of: form)), ("first_name", "Ben"), ("last_name", "Rossi"), ("sex", "male"),
                                  ("date_of_birth", "1984-03-02"), ("place_of_birth", "Roma"), ("nationality", "IT")], client: "198.51.100.7")
        #expect(saved.headers["location"] == own + "/done")
        #expect(text(lab.get(own + "/done", client: "198.51.100.7")).contains("Your details are saved"))
        #expect(try lab.checkins.progress(reservationID: "R1").guests[1]?[.lastName] == "Rossi")
        #expect(text(lab.get("/arrive/\(token)/companions")).contains("Ben Rossi · has their own link"))
        #expect(try lab.events("arrival.companion_claimed").count == 1)
        let updated = try lab.events()
        #expect(updated.count == 2, "the primary's details and the companion's")
    }

    @Test("the primary guest can end an invite, claimed or not: its link opens nothing; a shrunk booking's extra places open nothing")
    func revoke() throws {
        let lab = try Harness()
        let token = try atCompanions(lab)
        let (_, claim) = try invite(lab, token, place: 2)
        let companions = lab.get("/arrive/\(token)/companions")
        #expect(text(companions).contains("invited by link"))
        #expect(lab.post("/arrive/\(token)/companions/2/revoke", [("csrf", "expired")]).status == 403, "an expired form changes nothing")
        let revoked = lab.post("/arrive/\(token)/companions/2/revoke", [("csrf", try CheckinStepsTests.csrf(of: companions))])
        #expect(revoked.headers["location"] == "/arrive/\(token)/companions")
        let gone = lab.get("/claim/\(claim)")
        #expect(gone.status == 404 && !text(gone).contains("href=\"/arrive\""), "no way to find my booking from a companion's link")

        let (_, first) = try invite(lab, token, place: 1)
        let invitation = lab.get("/claim/\(first)", client: "198.51.100.9")
        let own = try #require(lab.post("/claim/\(first)", [("csrf", try CheckinStepsTests.csrf(of: invitation))], client: "198.51.100.9").headers["location"])
        let page = lab.get("/arrive/\(token)/companions")
        #expect(lab.post("/arrive/\(token)/companions/1/revoke", [("csrf", try CheckinStepsTests.csrf(of: page))]).status == 303)
        #expect(lab.get(own, client: "198.51.100.9").status == 404, "a claimed place's own link ends too")

        let (_, third) = try invite(lab, token, place: 2)
        var smaller = try #require(try lab.reservations.get(id: "R1")).reservation
        smaller.children = 0  // two adults now: one place
        try lab.reservations.put(smaller, source: "test")
        #expect(lab.get("/claim/\(third)", client: "198.51.100.10").status == 404, "the booking has no second place any more")
    }

    @Test("a new link for a place ends the one before")
    func newLinkEndsOld() throws {
        let lab = try Harness()
        let token = try atCompanions(lab)
        let (_, second) = try invite(lab, token, place: 2)
        let (_, third) = try invite(lab, token, place: 2)
        #expect(lab.get("/claim/\(second)").status == 404 && lab.get("/claim/\(third)").status == 200)
    }

    @Test("20 phones claim one invite at once: one wins, the rest are told it was taken")
    func concurrentClaims() throws {
        let lab = try Harness()
        let token = try atCompanions(lab)
        let (_, claim) = try invite(lab, token, place: 1)
        let forms = try (0..<20).map { index in
            try CheckinStepsTests.csrf(of: lab.get("/claim/\(claim)", client: "198.51.100.\(index + 1)"))
        }
        let statuses = together(20) { index in
            lab.post("/claim/\(claim)", [("csrf", forms[index])], client: "198.51.100.\(index + 1)").status
        }
        #expect(statuses.filter { $0 == 303 }.count == 1, "\(statuses)")
        #expect(statuses.filter { $0 == 409 }.count == 19, "the rest are told it was taken: \(statuses)")
        #expect(try lab.events("arrival.companion_claimed").count == 1)
    }

    @Test("where the law registers everyone, arriving waits for every companion's details; elsewhere it does not")
    func arriveWaitsForCompanions() throws {
        let spain = try Harness(registration: "es", fields: "early_arrival_days = 30")
        let token = try spain.book(adults: 2)
        #expect(try spain.submit("/arrive/\(token)/confirm", []).status == 303)
        #expect(try spain.submit("/arrive/\(token)/details", CheckinStepsTests.britishGuest).status == 303)
        let terms = spain.get("/arrive/\(token)/terms")
        let hash = try #require(text(terms).firstMatch(of: /name="terms_sha256" value="([0-9a-f]{64})"/)).1
        #expect(spain.post("/arrive/\(token)/terms", [("csrf", try CheckinStepsTests.csrf(of: terms)), ("terms_sha256", String(hash)), ("name", "John Smith")]).status == 303)
        let page = text(spain.get("/arrive/\(token)/arrive"))
        #expect(page.contains("Details of guest 2") && page.contains("href=\"/arrive/\(token)/companions\"") && !page.contains("Check in now"))
        let csrf = try CheckinStepsTests.csrf(of: spain.get("/arrive/\(token)/confirm"))
        #expect(spain.post("/arrive/\(token)/arrive", [("csrf", csrf)]).status == 422, "refused while a companion is missing")
        #expect(try spain.submit("/arrive/\(token)/companions/1", CheckinStepsTests.britishGuest).status == 303)
        #expect(spain.post("/arrive/\(token)/arrive", [("csrf", csrf)]).headers["location"] == "/arrive/\(token)/done")
        #expect(try spain.checkins.missing(for: #require(try spain.reservations.get(id: "R1")).reservation,
                                           in: spain.checkins.progress(reservationID: "R1")).companions.isEmpty, "complete now")
        let basic = try Harness(fields: "early_arrival_days = 30")
        let other = try basic.book(adults: 3)
        #expect(try basic.submit("/arrive/\(other)/confirm", []).status == 303)
        #expect(try basic.submit("/arrive/\(other)/details", [("first_name", "Anna"), ("last_name", "Müller")]).status == 303)
        let optional = text(basic.get("/arrive/\(other)/arrive"))
        #expect(optional.contains("Sign the terms of stay") && !optional.contains("Details of guest"))
    }
}

/// The invite's QR code read back by an independent decoder: librsvg draws the SVG,
/// zbar (Debian's zbar-tools) reads it, as a phone's camera would.
@Suite("check-in: the invite's QR code")
struct QRCodeTests {
    @Test("zbarimg reads back exactly the link the SVG encodes", arguments: [
        "http://portal.example:8080/claim/AAAAAAAAAAAAAAAAAAAAAAAA",
        "https://checkin.hotel-with-a-long-name.example.com/some/prefix/claim/Zz09_-Zz09_-Zz09_-Zz09_-",
    ])
    func decodes(url: String) throws {
        let code = try #require(QRCode(url))
        let directory = Scratch.directory.appendingPathComponent("qr-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let svg = directory.appendingPathComponent("code.svg"), png = directory.appendingPathComponent("code.png")
        try Data(code.svg(label: "QR").utf8).write(to: svg)
        try Shell.run(["rsvg-convert", "-w", "400", "-b", "white", "-o", png.path, svg.path])
        let read = try Shell.run(["zbarimg", "--quiet", "--raw", png.path])
        #expect(read.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == url)
    }
}
