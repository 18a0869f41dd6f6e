import Arrivals
import Firewall
import Foundation
import Lab
import Logging
import GRDB
@testable import Store
import Testing
@testable import HTTPServer
@testable import PortalD

/// Online check-in's way in, through the portal's router: a link opens its reservation,
/// any other token gets one neutral page, "find my booking" matches reference and
/// surname the way a guest types them, and guessing is throttled per address and per
/// reservation.
@Suite("check-in: links and find my booking")
struct ArrivalEntryTests {
    let reservations: Reservations
    let handle: (HTTPRequest) -> HTTPResponse
    let clock: TestClock

    final class TestClock: @unchecked Sendable {  // set by the test's one thread
        var now = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18
    }

    init() throws {
        let config = try Config.parse("""
            [site]
            id = "h"
            name = "Hotel <Test>"
            time_zone = "Europe/Berlin"
            [portal]
            listen = "192.0.2.1:8080"
            public_url = "http://portal.example:8080/"
            lan_interface = "lan0"
            [store]
            path = "x.db"
            [arrivals]
            public_url = "https://checkin.example.com/"
            """, baseDirectory: "/tmp")
        let (store, _) = try temporaryStore()
        let clock = TestClock()
        self.clock = clock
        reservations = Reservations(store: store, timeZone: config.site.timeZone, linkBase: config.arrivals.publicURL, now: { clock.now })
        let sessions = SessionService(store: store, firewall: MemoryFirewall(), sessionMinutes: 60, logger: Logger(label: "t"))
        let pages = try GuestPages(siteName: config.site.name, timeZone: config.site.timeZone)
        let portal = Portal(config: config, sessions: sessions, neighbours: StaticNeighbours(),
                            formKey: Array(repeating: 1, count: 32), pages: pages, reservations: reservations, logger: Logger(label: "t"))
        handle = portal.answer
    }

    func guest(last: String, primary: Bool = true) -> Reservation.Guest { Reservation.Guest(firstName: "Anna", lastName: last, primary: primary) }

    @discardableResult
    func put(_ id: String, reference: String = "BKG-A1B2C3", status: Reservation.Status = .confirmed, arrival: String = "2026-12-01",
             guests: [Reservation.Guest]? = nil, room: String? = "214") throws -> StoredReservation {
        try reservations.put(Reservation(id: id, reference: reference, status: status, arrival: LocalDate(arrival)!, departure: LocalDate("2026-12-04")!,
                                         room: room, adults: 2, children: 1, babies: 0, language: "de",
                                         guests: guests ?? [guest(last: "Müller"), guest(last: "Schmidt", primary: false)], version: nil),
                             source: "test").0
    }

    func get(_ target: String, client: String = "192.0.2.10") -> HTTPResponse {
        handle(HTTPRequest(method: .get, target: target, headers: HTTPHeaders([("Host", "portal.example:8080")]), body: [], clientAddress: client))
    }

    func post(_ form: String, client: String = "192.0.2.10") -> HTTPResponse {
        handle(HTTPRequest(method: .post, target: "/arrive", headers: HTTPHeaders([("Host", "portal.example:8080"), ("Content-Type", "application/x-www-form-urlencoded")]),
                           body: Array(form.utf8), clientAddress: client))
    }

    /// Fills the find form as a guest would: a fresh form token, then the fields.
    func find(_ reference: String, _ surname: String, arrival: String? = nil, client: String = "192.0.2.10") throws -> HTTPResponse {
        let html = text(get("/arrive", client: client))
        let range = try #require(html.range(of: #"name="csrf" value="[^"]+""#, options: .regularExpression))
        let csrf = String(html[range].split(separator: "\"")[3])
        func encoded(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }
        return post("csrf=\(csrf)&reference=\(encoded(reference))&surname=\(encoded(surname))" + (arrival.map { "&arrival=\($0)" } ?? ""), client: client)
    }

    func text(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    func csrfOf(_ response: HTTPResponse) throws -> String {
        let html = text(response)
        let range = try #require(html.range(of: #"name="csrf" value="[^"]+""#, options: .regularExpression))
        return String(html[range].split(separator: "\"")[3])
    }

    func token(_ stored: StoredReservation) throws -> String { try #require(stored.checkinURL?.lastPathComponent) }

    @Test("a check-in link opens its reservation: hotel, dates in the guest's language, room, guests; escaped, no referrer")
    func linkOpens() throws {
        let stored = try put("4711", reference: "BKG-<b>")
        let page = get("/arrive/\(try token(stored))")
        #expect(page.status == 200)
        let html = text(page)
        // The booking is German (language "de") and the browser names no language: German.
        #expect(html.contains("<html lang=\"de\">") && html.contains("Willkommen bei Hotel &lt;Test&gt;") && html.contains("Buchung BKG-&lt;b&gt;"), "escaped: \(html)")
        #expect(html.contains("1. Dezember 2026 – 4. Dezember 2026") && html.contains("Zimmer 214") && html.contains("3 Gäste"), "\(html)")
        #expect(page.headers["referrer-policy"] == "no-referrer" && page.headers["x-frame-options"] == "DENY")
    }

    @Test("unknown, rotated and expired links get the same neutral page, and wrong tries are throttled per address")
    func neutralAndThrottled() throws {
        let stored = try put("4711")
        let old = try token(stored)
        let rotated = try reservations.rotateLink(id: "4711")
        let unknown = get("/arrive/AAAAAAAAAAAAAAAAAAAAAAAA")
        let wasRotated = get("/arrive/\(old)")
        #expect(unknown.status == 404 && wasRotated.status == 404 && text(unknown) == text(wasRotated), "no hint which")
        #expect(text(unknown).contains("This link does not work") && text(unknown).contains("href=\"/arrive\""))
        #expect(get("/arrive/\(try token(rotated))").status == 200, "the new link works")
        clock.now = Date(timeIntervalSince1970: 1_796_500_000)  // 2026-12-05: after the departure day
        #expect(text(get("/arrive/\(try token(rotated))")) == text(unknown), "expired: the same page")
        for _ in 0..<(Portal.guessesPerMinute - 3) { _ = get("/arrive/BBBBBBBBBBBBBBBBBBBBBBBB") }
        let refused = get("/arrive/\(try token(rotated))")
        #expect(refused.status == 429 && refused.headers["retry-after"] != nil, "the 11th wrong try in a minute")
        #expect(get("/arrive/CCCCCCCCCCCCCCCCCCCCCCCC", client: "192.0.2.11").status == 404, "another address is not refused")
    }

    @Test("find my booking: reference and surname as typed (case, accents, spaces, dashes) continue into the link flow")
    func findsAsTyped() throws {
        try put("4711")
        let found = try find(" bkg a1b2 c3 ", "muller")
        #expect(found.status == 303, "\(text(found))")
        let location = try #require(found.headers["location"])
        #expect(location.hasPrefix("/arrive/") && found.headers["referrer-policy"] == "no-referrer")
        let welcome = get(location)
        #expect(welcome.status == 200 && text(welcome).contains("Buchung BKG-A1B2C3"), "the booking's language")
        #expect(try find("BKG-A1B2C3", "SCHMIDT").status == 303, "any guest's surname on the booking")
        var forged = Array(location)
        let seal = forged.firstIndex(of: ".")! - 3  // a character of the MAC, not of the id
        forged[seal] = forged[seal] == "A" ? "B" : "A"
        #expect(get(String(forged)).status == 404, "a pass with another MAC opens nothing")
        _ = try reservations.rotateLink(id: "4711")
        #expect(get(location).status == 404, "a new link ends the passes made before it")
        let again = try #require(try find("BKG-A1B2C3", "Müller").headers["location"])
        #expect(get(again).status == 200)
        clock.now = clock.now.addingTimeInterval(3 * 3600)
        #expect(get(again).status == 404, "a pass expires")
    }

    @Test("no match is one neutral answer; cancelled bookings are not found; several matches ask for the arrival date")
    func notFoundAndSeveral() throws {
        try put("4711")
        try put("4712", reference: "BKG-X", status: .cancelled)
        let wrongName = try find("BKG-A1B2C3", "Meier")
        let wrongReference = try find("BKG-ZZZ", "Müller")
        let cancelled = try find("BKG-X", "Müller", client: "192.0.2.12")
        #expect(wrongName.status == 404 && wrongReference.status == 404 && cancelled.status == 404)
        #expect(text(wrongName) == text(wrongReference).replacingOccurrences(of: "BKG-ZZZ", with: "BKG-A1B2C3")
                    .replacingOccurrences(of: "Müller", with: "Meier").replacingOccurrences(of: try csrfOf(wrongReference), with: try csrfOf(wrongName)),
                "a wrong name and a wrong reference look the same")
        #expect(text(wrongName).contains("could not find a booking") && text(wrongName).contains(#"role="alert""#))
        try put("5001", reference: "FAM-1", arrival: "2026-12-01", guests: [guest(last: "Rossi")])
        try put("5002", reference: "FAM-1", arrival: "2026-12-10", guests: [guest(last: "Rossi")])
        let several = try find("FAM-1", "Rossi", client: "192.0.2.13")
        #expect(several.status == 200 && text(several).contains(#"name="arrival" type="date""#) && text(several).contains(#"<label for="arrival">"#))
        #expect(try find("FAM-1", "Rossi", arrival: "2026-12-10", client: "192.0.2.13").status == 303)
        #expect(try find("FAM-1", "Rossi", arrival: "2026-12-11", client: "192.0.2.13").status == 404)
    }

    @Test("wrong names lock a reference from every address, existing or not: a growing wait after 5; the form must be fresh")
    func lockedPerReference() throws {
        try put("4711")
        for reference in ["BKG-A1B2C3", "BKG-NOSUCH"] {
            for attempt in 0..<5 {
                // From a new address each time: the per-address count never trips.
                #expect(try find(reference, "Wrong\(attempt)", client: "198.51.100.\(attempt + 1)").status == 404)
            }
            let locked = try find(reference, "Müller", client: "198.51.100.99")
            #expect(locked.status == 429 && text(locked).contains("Too many tries") && locked.headers["retry-after"] == "1",
                    "\(reference): even the right name waits, whether or not the reference exists")
        }
        clock.now = clock.now.addingTimeInterval(2)
        #expect(try find("bkg a1b2c3", "Müller", client: "198.51.100.99").status == 303, "after the wait, the right name gets in")
        for attempt in 0..<Portal.guessesPerMinute {
            _ = try find("REF-\(attempt)", "X", client: "203.0.113.7")
        }
        #expect(try find("BKG-A1B2C3", "Müller", client: "203.0.113.7").status == 429, "and per address: the 11th failed lookup a minute")
        let html = text(get("/arrive"))
        let issued = try #require(html.range(of: #"name="csrf" value="[^"]+""#, options: .regularExpression)).lowerBound
        let csrf = String(html[issued...].split(separator: "\"")[3])
        clock.now = clock.now.addingTimeInterval(5 * 3600)
        #expect(post("csrf=\(csrf)&reference=BKG-A1B2C3&surname=M%C3%BCller").status == 403, "a form older than 4 hours does nothing")
    }

    @Test("a cancelled booking's link, and a stay that is over, open nothing; a token never reaches the log")
    func notOpenable() throws {
        let stored = try put("4711")
        #expect(get("/arrive/\(try token(stored))").status == 200)
        try put("4711", status: .cancelled)
        #expect(get("/arrive/\(try token(stored))").status == 404)
        #expect(Portal.loggable("/arrive/SECRET/arrive") == "/arrive/{token}/arrive" && Portal.loggable("/claim/SECRET") == "/claim/{token}")
        #expect(Portal.loggable("/status") == "/status")
    }
}

@Suite("check-in: the lookup throttle and the pass")
struct LookupThrottleTests {
    @Test("after 5 tries each waits twice as long; at most 100 count an hour; success forgets; memory is bounded")
    func throttle() {
        let throttle = LookupThrottle(capacity: 100)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for index in 0..<5 { #expect(throttle.begin("r", at: start.addingTimeInterval(Double(index))) == nil) }
        #expect(throttle.begin("r", at: start.addingTimeInterval(4.5)) == start.addingTimeInterval(5), "the 6th try waits 1 s")
        #expect(throttle.begin("r", at: start.addingTimeInterval(5)) == nil)
        #expect(throttle.begin("r", at: start.addingTimeInterval(6)) == start.addingTimeInterval(7), "then 2 s")
        var date = start.addingTimeInterval(10)
        var counted = 6
        while date < start.addingTimeInterval(3000) {
            if throttle.begin("r", at: date) == nil { counted += 1 }
            date.addTimeInterval(1)
        }
        #expect(counted < 20, "the doubling wait lets few tries through an hour (\(counted))")
        #expect(throttle.begin("other", at: date) == nil)
        throttle.succeeded("r")
        #expect(throttle.begin("r", at: date) == nil)
        for index in 0..<500 { _ = throttle.begin("flood-\(index)", at: date) }
        for _ in 0..<5 { _ = throttle.begin("kept", at: date) }
        #expect(throttle.begin("kept", at: date) != nil, "when full, the keys tried longest ago go first: the newest lock stays")
    }

    @Test("a cap of tries an hour, for a slow guesser")
    func hourlyCap() {
        let throttle = LookupThrottle(free: 5, perHour: 8, longestWait: 1)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        var date = start
        for _ in 0..<8 { while throttle.begin("r", at: date) != nil { date.addTimeInterval(1) } }
        let until = throttle.begin("r", at: date.addingTimeInterval(60))
        #expect(until != nil && until! > date.addingTimeInterval(60) && until! <= start.addingTimeInterval(3600 + 60), "the 9th within the hour waits for the hour")
    }

    @Test("a pass names its reservation until it expires; another key, a changed id or a changed expiry opens nothing")
    func pass() throws {
        let pass = CheckinPass(key: Array(repeating: 3, count: 32))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let link: [UInt8] = Array(repeating: 9, count: 32)
        let token = pass.issue(reservationID: "4711", linkHash: link, at: now)
        #expect(CheckinPass.isPass(token) && !CheckinPass.isPass(Array(repeating: UInt8(7), count: 18).base64URLString))
        #expect(pass.claimedID(token, at: now.addingTimeInterval(3600)) == "4711" && pass.verify(token, linkHash: link))
        #expect(pass.claimedID(token, at: now.addingTimeInterval(2 * 3600 + 1)) == nil)
        #expect(!CheckinPass(key: Array(repeating: 4, count: 32)).verify(token, linkHash: link))
        #expect(!pass.verify(token, linkHash: Array(repeating: 8, count: 32)), "another link: rotated")
        let other = pass.issue(reservationID: "4712", linkHash: link, at: now)
        let swapped = token.split(separator: ".")[0] + "." + other.split(separator: ".")[1]
        #expect(pass.claimedID(String(swapped), at: now) == "4712" && !pass.verify(String(swapped), linkHash: link))
        #expect(pass.claimedID("x.y", at: now) == nil && pass.claimedID("...", at: now) == nil)
    }
}

@Suite("check-in: the lookup key of reservations stored before it existed")
struct LookupMigrationTests {
    @Test("migration v10 gives reservations stored under v9 their lookup key: they are found")
    func backfill() throws {
        let path = Scratch.directory.appendingPathComponent("portald-v9-\(UUID())/portald.db").path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        do {
            let pool = try DatabasePool(path: path)
            try Store.migrator(schemas: [StoreSecrets.self, StoreProbeSchema.self] + Daemon.schemas).migrate(pool, upTo: "v9: webhook endpoints")
            try pool.write { db in
                try db.execute(sql: """
                    INSERT INTO reservation(id, reference, status, arrival, departure, adults, children, babies, guests, source, search,
                        checkin_token_hash, created_at, updated_at)
                    VALUES ('4711', 'BKG-A1B2C3', 'confirmed', '2099-12-01', '2099-12-04', 2, 0, 0,
                        '[{"first_name": "Anna", "last_name": "Müller", "email": null, "phone": null, "primary": true}]', 'api', '',
                        x'00', '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')
                    """)
            }
        }
        let store = try Store(path: path, schemas: Daemon.schemas)
        let reservations = Reservations(store: store, timeZone: .gmt, linkBase: URL(string: "https://checkin.example.com/")!)
        #expect(try reservations.lookup(reference: "bkg a1b2c3", surname: "muller").matches.map { $0.stored.reservation.id } == ["4711"])
    }
}
