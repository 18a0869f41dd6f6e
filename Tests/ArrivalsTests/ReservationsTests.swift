import Foundation
import GRDB
import Lab
import Outbox
import Store
import Testing
@testable import Arrivals

/// A fresh database with only the check-in domain's tables.
func reservationStore(now: @escaping @Sendable () -> Date = { Date() }, zone: TimeZone = TimeZone(identifier: "Europe/Madrid")!) throws -> Reservations {
    let path = Scratch.directory.appendingPathComponent("arrivals-test-\(UUID())/portald.db").path
    return Reservations(store: try Store(path: path, schemas: [ArrivalsSchema.self]), timeZone: zone,
                        linkBase: URL(string: "https://checkin.example.com/hotel/")!, now: now)
}

func sample(_ id: String = "R-1", version: Int64? = nil, status: Reservation.Status = .confirmed, arrival: String = "2026-12-01",
            departure: String = "2026-12-04", lastName: String = "Müller", room: String? = "214") -> Reservation {
    Reservation(id: id, reference: "BKG-\(id)", status: status, arrival: LocalDate(arrival)!, departure: LocalDate(departure)!, room: room,
                adults: 2, children: 1, language: "de",
                guests: [.init(firstName: "Anna", lastName: lastName, email: "anna@example.com", phone: "+49 30 1234567", primary: true),
                         .init(firstName: "Ben", lastName: lastName, primary: false)],
                version: version)
}

@Suite("reservations: versions, deletes, links, search")
struct ReservationsTests {
    @Test("create gives a check-in link once; a repeat is unchanged; a change is an update")
    func upsert() throws {
        let reservations = try reservationStore()
        let (created, outcome) = try reservations.put(sample(version: 1), source: "api:t")
        #expect(outcome == .created)
        let url = try #require(created.checkinURL).absoluteString
        #expect(url.hasPrefix("https://checkin.example.com/hotel/arrive/"), "\(url)")
        let token = String(url.split(separator: "/").last!)
        #expect(token.count == 24 && Data(base64Encoded: token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/"))?.count == 18)
        #expect(try reservations.get(id: "R-1")?.checkinURL == nil, "the link is shown only when made")
        #expect(try reservations.put(sample(version: 1), source: "api:t").1 == .unchanged)
        var moved = sample(version: 2)
        moved.room = "215"
        let (updated, again) = try reservations.put(moved, source: "inbound:pms")
        #expect(again == .updated && updated.checkinURL == nil && updated.reservation.room == "215" && updated.source == "inbound:pms")
        #expect(try reservations.reservation(forLinkToken: token)?.reservation.room == "215", "an update keeps the link")
    }

    @Test("an update older than the stored version is refused and changes nothing; one without a version applies")
    func staleUpdate() throws {
        let reservations = try reservationStore()
        try reservations.put(sample(version: 7), source: "api:t")
        var old = sample(version: 6)
        old.room = "999"
        #expect(throws: ReservationError.stale(id: "R-1", stored: 7, offered: 6)) { try reservations.put(old, source: "api:t") }
        #expect(try reservations.get(id: "R-1")?.reservation.room == "214")
        old.version = nil
        #expect(try reservations.put(old, source: "api:t").1 == .updated)
        #expect(try reservations.get(id: "R-1")?.reservation.version == 7, "an unversioned update keeps the stored version")
    }

    @Test("status moves as a front desk does; impossible ones name the field")
    func transitions() throws {
        let reservations = try reservationStore()
        try reservations.put(sample(), source: "api:t")
        #expect(throws: ReservationError.invalid(field: "status", message: "a reservation cannot go from confirmed to checked_out")) {
            try reservations.put(sample(status: .checkedOut), source: "api:t")
        }
        for status: Reservation.Status in [.inHouse, .checkedOut, .inHouse, .confirmed, .cancelled, .confirmed, .noShow] {
            #expect(try reservations.put(sample(status: status), source: "api:t").0.reservation.status == status)
        }
        #expect(throws: ReservationError.self) { try reservations.put(sample(status: .inHouse), source: "api:t") }  // no-show → in house
        // Versions order updates that overtook each other: a newer one is the PMS's word.
        try reservations.put(sample("R-2", version: 1), source: "pms")
        #expect(try reservations.put(sample("R-2", version: 3, status: .checkedOut), source: "pms").0.reservation.status == .checkedOut)
        #expect(throws: ReservationError.self) { try reservations.put(sample("R-2", version: 2, status: .inHouse), source: "pms") }
        #expect(Reservation.Status.cancelled.canBecome(.checkedOut) == false && Reservation.Status.inHouse.canBecome(.cancelled) == false)
    }

    @Test("delete leaves a tombstone: older updates stay ignored, newer ones bring it back with a new link")
    func deletes() throws {
        let reservations = try reservationStore()
        let token = String(try #require(try reservations.put(sample(version: 3), source: "api:t").0.checkinURL).lastPathComponent)
        #expect(try reservations.delete(id: "R-1", version: 4, source: "api:t") == true)
        #expect(try reservations.delete(id: "R-1", source: "api:t") == false, "a repeated delete is harmless")
        #expect(try reservations.get(id: "R-1") == nil)
        #expect(try reservations.reservation(forLinkToken: token) == nil, "a deleted reservation's link is dead")
        #expect(throws: ReservationError.stale(id: "R-1", stored: 4, offered: 2)) { try reservations.put(sample(version: 2), source: "api:t") }
        #expect(throws: ReservationError.stale(id: "R-1", stored: 4, offered: 4), "a redelivery of the deleting version does not resurrect") {
            try reservations.put(sample(version: 4), source: "api:t")
        }
        let (back, outcome) = try reservations.put(sample(version: 5), source: "api:t")
        #expect(outcome == .created && back.checkinURL != nil && back.checkinURL?.lastPathComponent != token)
        #expect(throws: ReservationError.notFound(id: "nope")) { try reservations.delete(id: "nope", source: "api:t") }
        // A versioned delete that overtakes its create is remembered.
        #expect(try reservations.delete(id: "R-2", version: 9, source: "inbound:pms") == true)
        #expect(throws: ReservationError.self) { try reservations.put(sample("R-2", version: 8), source: "inbound:pms") }
        #expect(try reservations.list(ReservationQuery()).reservations.map(\.reservation.id) == ["R-1"])
    }

    @Test("links: stored only as a hash; rotation kills the old one at once; dead after the departure day, site time")
    func links() throws {
        let clock = TestClock(Date(timeIntervalSince1970: 1_764_000_000))  // 2025-11-24
        let reservations = try reservationStore(now: { clock.now })
        let first = String(try #require(try reservations.put(sample(), source: "api:t").0.checkinURL).lastPathComponent)
        let stored = try reservations.store.pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM reservation")! }
        #expect(!stored.description.contains(first), "the token itself is not in the row")
        #expect((stored["checkin_token_hash"] as Data?) == Data(CheckinLink.hash(first)))
        let rotated = try reservations.rotateLink(id: "R-1")
        let second = String(try #require(rotated.checkinURL).lastPathComponent)
        #expect(try reservations.reservation(forLinkToken: first) == nil)
        #expect(try reservations.reservation(forLinkToken: second)?.reservation.id == "R-1")
        #expect(throws: ReservationError.notFound(id: "R-9")) { try reservations.rotateLink(id: "R-9") }
        // Departure 2026-12-04 in Madrid (UTC+1): the link works until 2026-12-04T23:00:00Z.
        #expect(RFC3339.string(rotated.checkinExpiresAt) == "2026-12-04T23:00:00Z")
        clock.now = rotated.checkinExpiresAt.addingTimeInterval(-1)
        #expect(try reservations.reservation(forLinkToken: second) != nil)
        clock.now = rotated.checkinExpiresAt
        #expect(try reservations.reservation(forLinkToken: second) == nil)
    }

    @Test("list: arrival range, statuses, accent-blind search, exact pages by cursor")
    func list() throws {
        let reservations = try reservationStore()
        let days = ["2026-12-01", "2026-12-01", "2026-12-02", "2026-12-03", "2026-12-05", "2026-12-05", "2026-12-06"]
        for (index, day) in days.enumerated() {
            try reservations.put(sample("R-\(index)", status: index == 3 ? .cancelled : .confirmed, arrival: day, departure: "2026-12-09",
                                        lastName: index == 4 ? "Núñez_50%" : "Smith", room: index == 2 ? "A-12" : nil), source: "api:t")
        }
        func ids(_ query: ReservationQuery) throws -> [String] { try reservations.list(query).reservations.map(\.reservation.id) }
        #expect(try ids(ReservationQuery(arrivalFrom: LocalDate("2026-12-02"), arrivalTo: LocalDate("2026-12-05"))) == ["R-2", "R-3", "R-4", "R-5"])
        #expect(try ids(ReservationQuery(statuses: [.cancelled])) == ["R-3"])
        #expect(try ids(ReservationQuery(text: "nunez")) == ["R-4"])
        #expect(try ids(ReservationQuery(text: "_50%")) == ["R-4"], "LIKE wildcards are literal")
        #expect(try ids(ReservationQuery(text: "a-12")) == ["R-2"])
        #expect(try ids(ReservationQuery(text: "smith bkg-r-6")) == ["R-6"], "every word must match")
        var query = ReservationQuery(limit: 3)
        var seen: [String] = []
        var pages = 0
        repeat {
            let page = try reservations.list(query)
            seen += page.reservations.map(\.reservation.id)
            query.after = page.next
            pages += 1
            if let next = page.next { #expect(ReservationQuery.Cursor(next.text) == next) }
        } while query.after != nil
        #expect(seen == (0..<7).map { "R-\($0)" } && pages == 3)
        #expect(ReservationQuery.Cursor("not a cursor") == nil && ReservationQuery.Cursor("") == nil)
    }
}

final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Date
    init(_ start: Date) { value = start }
    var now: Date {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}


@Suite("group commit")
struct GroupCommitTests {
    @Test("concurrent writes share commits; one that fails is rolled back alone and its caller gets the error")
    func concurrentWrites() async throws {
        let reservations = try reservationStore()
        let store = reservations.store
        try await store.pool.write { db in try db.execute(sql: "CREATE TABLE t (n INTEGER PRIMARY KEY)") }
        struct Refused: Error {}
        let results = await withTaskGroup(of: (Int, Bool).self) { group in
            for n in 0..<64 {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        Thread.detachNewThread {  // blocking, as on the worker pool
                            let ok = (try? store.groupWrite { db in
                                try db.execute(sql: "INSERT INTO t(n) VALUES (?)", arguments: [n])
                                if n % 10 == 3 { throw Refused() }
                                return n
                            }) == n
                            continuation.resume(returning: (n, ok))
                        }
                    }
                }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        let stored = try await store.pool.read { db in try Int.fetchAll(db, sql: "SELECT n FROM t ORDER BY n") }
        #expect(stored == (0..<64).filter { $0 % 10 != 3 }, "the failed ones rolled back alone")
        #expect(results.filter(\.value).keys.sorted() == stored)
    }
}
