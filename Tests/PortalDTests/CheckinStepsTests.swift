import Arrivals
import Foundation
import Firewall
import GRDB
import HTTPServer
import Lab
import Logging
import Outbox
@testable import PortalD
import Store
import Testing

/// The check-in steps over HTTP through the portal's router: welcome → confirm →
/// guest details per registration profile, each step saved, each change reported.
@Suite("check-in: steps and registration details")
struct CheckinStepsTests {
    final class TestClock: @unchecked Sendable {  // set by the test's one thread
        var now = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18
    }

    /// A portal with check-in for one registration profile, its store and an endpoint for arrival events.
    struct Harness {
        let reservations: Reservations
        let checkins: Checkins
        let store: Store
        let sessions: SessionService
        let config: Config
        let clock = TestClock()
        let handle: @Sendable (HTTPRequest) -> HTTPResponse
        /// The same check-in on `[arrivals] listen` (the reverse proxy's way in).
        let site: @Sendable (HTTPRequest) -> HTTPResponse

        /// `fields`: more lines for `[arrivals]`; `neighbours`: the LAN's devices as the
        /// kernel's ARP table lists them (address, MAC), on `lan0`.
        init(registration: String = "basic", fields: String = "", neighbours: [(String, String)] = []) throws {
            config = try Config.parse("""
                [site]
                id = "h"
                name = "Hotel Test"
                time_zone = "Europe/Madrid"
                [portal]
                listen = "192.0.2.1:8080"
                public_url = "http://portal.example:8080/"
                lan_interface = "lan0"
                [store]
                path = "x.db"
                [arrivals]
                registration = "\(registration)"
                \(fields)
                """, baseDirectory: "/tmp")
            let (store, _) = try temporaryStore()
            self.store = store
            let clock = clock
            reservations = Reservations(store: store, timeZone: config.site.timeZone, linkBase: config.arrivals.publicURL, now: { clock.now })
            let outbox = Outbox(siteID: "h", endpoints: [try WebhookEndpoint(
                id: "pms", url: URL(string: "http://192.0.2.99/hook")!,
                secrets: [WebhookSecret("whsec_" + Data(repeating: 7, count: 24).base64EncodedString())], topics: ["arrival.*"])])
            checkins = Checkins(store: store, outbox: outbox, profile: config.arrivals.registration, timeZone: config.site.timeZone,
                                earlyArrivalDays: config.arrivals.earlyArrivalDays, now: { clock.now })
            sessions = SessionService(store: store, firewall: MemoryFirewall(), sessionMinutes: 60, logger: Logger(label: "t"), now: { clock.now })
            let pages = try GuestPages(siteName: config.site.name, timeZone: config.site.timeZone)
            let portal = Portal(config: config, sessions: sessions, neighbours: StaticNeighbours(neighbours.map { Neighbour(address: IPAddress($0.0)!, mac: MACAddress($0.1)!) }),
                                formKey: Array(repeating: 2, count: 32), pages: pages, reservations: reservations, checkins: checkins,
                                logger: Logger(label: "t"))
            handle = portal.answer
            site = ArrivalsSite(config: config, reservations: reservations, checkins: checkins, sessions: sessions, formKey: Array(repeating: 2, count: 32),
                                lookups: LookupThrottle(), pages: pages, logger: Logger(label: "t")).answer
        }

        /// A booking for two adults arriving 2026-12-01; returns its check-in token.
        func book(_ id: String = "R1", adults: Int = 2, children: Int = 0) throws -> String {
            let stored = try reservations.put(Reservation(
                id: id, reference: "BKG-\(id)", status: .confirmed, arrival: LocalDate("2026-12-01")!, departure: LocalDate("2026-12-04")!,
                room: "214", adults: adults, children: children, guests: [.init(firstName: "Anna", lastName: "Müller", email: "anna@example.com", primary: true),
                                                 .init(firstName: "Ben", lastName: "Müller", primary: false)]), source: "test").0
            return try #require(stored.checkinURL?.lastPathComponent)
        }

        /// `site`: through `[arrivals] listen` rather than the portal listener.
        func get(_ target: String, client: String = "192.0.2.10", headers: [(String, String)] = [], site: Bool = false) -> HTTPResponse {
            (site ? self.site : handle)(HTTPRequest(method: .get, target: target, headers: HTTPHeaders([("Host", "portal.example:8080")] + headers), body: [], clientAddress: client))
        }

        func post(_ target: String, _ fields: [(String, String)], client: String = "192.0.2.10", headers: [(String, String)] = [],
                  site: Bool = false) -> HTTPResponse {
            (site ? self.site : handle)(HTTPRequest(method: .post, target: target, headers: HTTPHeaders([("Host", "portal.example:8080"),
                                                                                    ("Content-Type", "application/x-www-form-urlencoded")] + headers),
                               body: Array(FormData(fields).encoded.utf8), clientAddress: client))
        }

        /// Sends the form of the page at `target` as a guest would: its token, then `fields`.
        func submit(_ target: String, _ fields: [(String, String)], client: String = "192.0.2.10", headers: [(String, String)] = [],
                    site: Bool = false) throws -> HTTPResponse {
            let page = get(target, client: client, headers: headers, site: site)
            #expect(page.status == 200, "\(target): \(text(page))")
            return post(target, [("csrf", try csrf(of: page))] + fields, client: client, headers: headers, site: site)
        }

        /// `arrival.guest_updated` events recorded, oldest first (their data).
        func events(_ name: String = "arrival.guest_updated") throws -> [JSONValue] {
            try store.pool.read { db in
                try Data.fetchAll(db, sql: "SELECT body FROM outbox_event WHERE event = ? ORDER BY sequence", arguments: [name])
            }.map { data in
                guard case .object(let envelope) = try JSONReader.read(Array(data)), let payload = envelope["data"] else { return .null }
                return payload
            }
        }
    }

    static func text(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    static func csrf(of page: HTTPResponse) throws -> String {
        let html = text(page)
        let range = try #require(html.range(of: #"name="csrf" value="[^"]+""#, options: .regularExpression))
        return String(html[range].split(separator: "\"")[3])
    }

    /// A guest every profile accepts: a British adult with everything filled in.
    static let britishGuest: [(String, String)] = [
        ("first_name", "John"), ("last_name", "Smith"), ("second_surname", ""), ("sex", "male"), ("date_of_birth", "1980-02-29"),
        ("place_of_birth", "Leeds"), ("nationality", "GB"), ("document_type", "passport"), ("document_number", "123456789"),
        ("document_support_number", ""), ("document_issuing_country", "GB"), ("address", "1 High Street"), ("city", "Leeds"),
        ("postal_code", "LS1 1AA"), ("country", "GB"), ("email", "john@example.com"), ("phone", "+44 113 496 0000"), ("relationship", ""),
    ]

    @Test("the whole flow for each registration profile: welcome → confirm → details (saved and reported with the profile's fields) → terms → arrive → done",
          arguments: ["basic", "es", "it", "de", "pt", "fr"])
    func wholeFlow(registration: String) throws {
        let lab = try Harness(registration: registration)
        let token = try lab.book()
        let welcome = Self.text(lab.get("/arrive/\(token)"))
        #expect(welcome.contains("href=\"/arrive/\(token)/confirm\""), "the way in: \(welcome)")
        let confirmPage = lab.get("/arrive/\(token)/confirm")
        #expect(Self.text(confirmPage).contains("BKG-R1") && Self.text(confirmPage).contains("Anna Müller<br>Ben Müller"))
        #expect(lab.get("/arrive/\(token)/details").headers["location"] == "/arrive/\(token)/confirm", "details wait for the confirmation")
        let confirmed = lab.post("/arrive/\(token)/confirm", [("csrf", try Self.csrf(of: confirmPage))])
        #expect(confirmed.status == 303 && confirmed.headers["location"] == "/arrive/\(token)/details")

        let form = lab.get("/arrive/\(token)/details")
        let html = Self.text(form)
        #expect(html.contains(#"id="f-first_name" name="first_name" type="text" value="Anna""#), "prefilled from the booking: \(html)")
        let profile = lab.checkins.profile
        for field in RegistrationField.allCases {
            #expect(html.contains("name=\"\(field.rawValue)\"") == profile.fields.contains(field), "\(registration): \(field)")
            if profile.fields.contains(field) { #expect(html.contains("<label for=\"f-\(field.rawValue)\">"), "labelled: \(field)") }
        }
        let saved = lab.post("/arrive/\(token)/details", [("csrf", try Self.csrf(of: form))] + Self.britishGuest)
        #expect(saved.status == 303, "\(registration): \(Self.text(saved))")
        let events = try lab.events()
        #expect(events.count == 1)
        guard case .object(let data)? = events.first, case .object(let guest)? = data["guest"], case .object(let details)? = guest["details"] else {
            Issue.record("no event data: \(events)"); return
        }
        #expect(data["reservation_id"] == "R1" && data["reference"] == "BKG-R1" && data["registration"] == .string(registration))
        #expect(guest["primary"] == true && guest["position"] == 0)
        let expected = Dictionary(uniqueKeysWithValues: Self.britishGuest.filter { !$0.1.isEmpty && profile.fields.contains(RegistrationField(rawValue: $0.0)!) }
            .map { ($0.0, JSONValue.string($0.1)) })
        #expect(details == expected)
        #expect(try lab.checkins.progress(reservationID: "R1").primary?.json == expected.mapValues { if case .string(let s) = $0 { s } else { "" } })

        #expect(saved.headers["location"] == "/arrive/\(token)/companions")
        // The booking's second adult, filled in by the primary guest (every profile takes this guest).
        let companion = try lab.submit("/arrive/\(token)/companions/1", Self.britishGuest.map { $0.0 == "first_name" ? ($0.0, "Jane") : $0 })
        #expect(companion.status == 303 && companion.headers["location"] == "/arrive/\(token)/companions", "\(registration): \(Self.text(companion))")
        let terms = lab.get("/arrive/\(token)/terms")
        let hash = try #require(Self.text(terms).firstMatch(of: /name="terms_sha256" value="([0-9a-f]{64})"/)).1
        let signed = lab.post("/arrive/\(token)/terms", [("csrf", try Self.csrf(of: terms)), ("terms_sha256", String(hash)), ("name", "John Smith")])
        #expect(signed.status == 303 && signed.headers["location"] == "/arrive/\(token)/arrive", "\(registration): \(Self.text(signed))")
        lab.clock.now = Date(timeIntervalSince1970: 1_796_119_200)  // 2026-12-01, the arrival day
        let ready = lab.get("/arrive/\(token)/arrive")
        #expect(Self.text(ready).contains("Check in now"), "\(registration): \(Self.text(ready))")
        let arrived = lab.post("/arrive/\(token)/arrive", [("csrf", try Self.csrf(of: ready))])
        #expect(arrived.headers["location"] == "/arrive/\(token)/done")
        #expect(Self.text(lab.get("/arrive/\(token)/done")).contains("You are checked in"))
        #expect(try lab.events("arrival.terms_signed").count == 1 && lab.events("arrival.arrived").count == 1)
        #expect(try lab.reservations.get(id: "R1")?.reservation.status == .inHouse)
    }

    @Test("a step before its time, or any step after arrival, leads to where the guest belongs; nothing is saved on the way")
    func stepsInOrder() throws {
        let lab = try Harness()
        let token = try lab.book()
        let csrf = try Self.csrf(of: lab.get("/arrive/\(token)/confirm"))
        let early = lab.post("/arrive/\(token)/details", [("csrf", csrf), ("first_name", "Anna"), ("last_name", "Müller")])
        #expect(early.status == 303 && early.headers["location"] == "/arrive/\(token)/confirm")
        #expect(lab.post("/arrive/\(token)/terms", [("csrf", csrf), ("name", "Anna Müller")]).headers["location"] == "/arrive/\(token)/confirm")
        #expect(try lab.checkins.progress(reservationID: "R1") == Checkins.Progress() && lab.events().isEmpty)
        #expect(lab.get("/arrive/\(token)/done").headers["location"] == "/arrive/\(token)/arrive", "not arrived yet")

        var inHouse = try #require(try lab.reservations.get(id: "R1")).reservation
        inHouse.status = .inHouse  // checked in at the desk
        try lab.reservations.put(inHouse, source: "test")
        for step in ["confirm", "details", "terms", "arrive"] {
            #expect(lab.get("/arrive/\(token)/\(step)").headers["location"] == "/arrive/\(token)/done", "\(step)")
        }
        #expect(lab.post("/arrive/\(token)/details", [("csrf", csrf), ("first_name", "X"), ("last_name", "Y")]).headers["location"] == "/arrive/\(token)/done")
        #expect(try lab.events().isEmpty)
    }

    @Test("wrong and missing values: 422, each reason tied to its field, input kept and escaped, nothing saved or reported")
    func refusedFields() throws {
        let lab = try Harness(registration: "es")
        let token = try lab.book()
        _ = try lab.submit("/arrive/\(token)/confirm", [])
        let response = try lab.submit("/arrive/\(token)/details", [("first_name", "Anna"), ("last_name", "<script>alert(1)</script>"),
                                                                  ("address", "<script>x</script> 5"), ("nationality", "XX"), ("email", "no")])
        #expect(response.status == 422)
        let html = Self.text(response)
        #expect(!html.contains("<script>") && (html.contains("value=\"&lt;script&gt;alert(1)&lt;&#x2F;script&gt;\"")
                                               || html.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\"")), "escaped: \(html)")
        #expect(html.contains(#"<p class="problem" id="f-phone-problem">Please give a phone number or an email address.</p>"#))
        #expect(html.contains(#"aria-describedby="f-last_name-problem" aria-invalid="true""#), "the reason is tied to the field")
        #expect(html.contains(#"<p class="problem" id="f-nationality-problem">Please choose a country from the list.</p>"#))
        #expect(html.contains(#"<p class="problem" id="f-sex-problem">Please fill this in.</p>"#))
        #expect(html.contains("Please correct the") && html.contains("role=\"alert\""))
        #expect(try lab.events().isEmpty && lab.checkins.progress(reservationID: "R1").primary == nil)
    }

    @Test("back navigation finds every step as saved; saving the same again reports nothing, a change reports again")
    func backKeepsData() throws {
        let lab = try Harness(registration: "de")
        let token = try lab.book()
        _ = try lab.submit("/arrive/\(token)/confirm", [])
        var german: [(String, String)] = [("first_name", "Anna"), ("last_name", "Müller"), ("nationality", "DE"), ("city", "Köln")]
        #expect(try lab.submit("/arrive/\(token)/details", german).status == 303, "a German citizen gives only what she likes")
        let back = Self.text(lab.get("/arrive/\(token)/details"))
        #expect(back.contains(#"value="Köln""#) && back.contains(#"<option value="DE" selected>Deutschland</option>"#) == false
                && back.contains(#"<option value="DE" selected>Germany</option>"#), "saved values, English country names")
        #expect(back.contains("href=\"/arrive/\(token)/confirm\""), "the back link")
        #expect(Self.text(lab.get("/arrive/\(token)/confirm")).contains("href=\"/arrive/\(token)\""))
        #expect(try lab.submit("/arrive/\(token)/details", german).status == 303)
        #expect(try lab.events().count == 1, "the same details again: no second event")
        german[3] = ("city", "Bonn")
        #expect(try lab.submit("/arrive/\(token)/details", german).status == 303)
        #expect(try lab.events().count == 2)
    }

    @Test("an expired form or one from another device saves nothing and shows the values again")
    func expiredForm() throws {
        let lab = try Harness()
        let token = try lab.book()
        _ = try lab.submit("/arrive/\(token)/confirm", [])
        let form = lab.get("/arrive/\(token)/details")
        lab.clock.now += 5 * 3600
        let late = lab.post("/arrive/\(token)/details", [("csrf", try Self.csrf(of: form)), ("first_name", "Annabel"), ("last_name", "M")])
        #expect(late.status == 403 && Self.text(late).contains(#"value="Annabel""#) && Self.text(late).contains("This form had expired"))
        let elsewhere = lab.post("/arrive/\(token)/details", [("csrf", try Self.csrf(of: lab.get("/arrive/\(token)/details"))), ("first_name", "X"), ("last_name", "Y")],
                                 client: "192.0.2.77")
        #expect(elsewhere.status == 403)
        #expect(try lab.checkins.progress(reservationID: "R1").primary == nil && lab.events().isEmpty)
    }

    @Test("steps of a token that opens nothing get the neutral page; the operator's field changes reach the form")
    func unknownTokenAndOverrides() throws {
        let lab = try Harness(registration: "basic", fields: "[arrivals.fields]\nphone = \"required\"\nnationality = \"hidden\"\nsex = \"optional\"")
        #expect(lab.get("/arrive/AAAAAAAAAAAAAAAAAAAAAAAA/details").status == 404)
        #expect(lab.post("/arrive/AAAAAAAAAAAAAAAAAAAAAAAA/confirm", [("csrf", "x")]).status == 404)
        let token = try lab.book()
        _ = try lab.submit("/arrive/\(token)/confirm", [])
        let html = Self.text(lab.get("/arrive/\(token)/details"))
        #expect(!html.contains("name=\"nationality\"") && html.contains(#"name="phone" type="tel" value="" maxlength="32" required"#)
                && html.contains("name=\"sex\""), "\(html)")
        let refused = try lab.submit("/arrive/\(token)/details", [("first_name", "Anna"), ("last_name", "Müller")])
        #expect(refused.status == 422 && Self.text(refused).contains(#"id="f-phone-problem""#))
    }
}
