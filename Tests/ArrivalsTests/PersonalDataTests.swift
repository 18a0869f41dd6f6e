import Foundation
import GRDB
import Lab
import Outbox
import Store
import Testing
@testable import Arrivals

/// What portald keeps of guests, and when it lets go: stays are purged N days after
/// departure with their check-ins; an erasure leaves only a tombstone.
@Suite("personal data: purge and erase")
struct PersonalDataTests {
    final class Clock: @unchecked Sendable { var now = Date(timeIntervalSince1970: 1_796_119_200) }  // 2026-12-01 10:00 UTC

    func make() throws -> (Reservations, Checkins, Clock) {
        let clock = Clock()
        // With the outbox's tables: erasure reaches the events' copies.
        let path = Scratch.directory.appendingPathComponent("arrivals-test-\(UUID())/portald.db").path
        let reservations = Reservations(store: try Store(path: path, schemas: [ArrivalsSchema.self, OutboxSchema.self]),
                                        timeZone: TimeZone(identifier: "Europe/Madrid")!, linkBase: URL(string: "https://checkin.example.com/")!,
                                        now: { clock.now })
        let outbox = Outbox(siteID: "h", endpoints: [try WebhookEndpoint(
            id: "pms", url: URL(string: "http://192.0.2.99/hook")!,
            secrets: [WebhookSecret("whsec_" + Data(repeating: 7, count: 24).base64EncodedString())], topics: ["arrival.*"])])
        let checkins = Checkins(store: reservations.store, outbox: outbox, profile: RegistrationProfile.named("basic")!,
                                timeZone: reservations.timeZone, now: { clock.now })
        return (reservations, checkins, clock)
    }

    func checkedIn(_ id: String, departure: String, _ reservations: Reservations, _ checkins: Checkins) throws {
        let reservation = sample(id, arrival: "2026-10-01", departure: departure)
        try reservations.put(reservation, source: "test")
        try checkins.confirm(reservationID: id)
        try checkins.save(GuestDetails([.firstName: "Anna", .lastName: "Müller", .email: "anna@example.com"]), position: 0, of: reservation)
        try checkins.sign(TermsSignature(name: "Anna Müller", signedAt: Date(), clientAddress: "192.0.2.10", userAgent: "t", language: "en",
                                         termsVersion: "1", termsSHA256: String(repeating: "0", count: 64), marketing: false), of: reservation)
    }

    func rows(_ reservations: Reservations, _ table: String, _ id: String) throws -> Int {
        try reservations.store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table) WHERE \(table == "reservation" ? "id" : "reservation_id") = ?", arguments: [id]) ?? 0 }
    }

    @Test("stays departed more than N days ago go with their check-ins; younger ones and young tombstones stay")
    func purge() throws {
        let (reservations, checkins, clock) = try make()
        try checkedIn("old", departure: "2026-10-31", reservations, checkins)     // 31 days before 2026-12-01
        try checkedIn("recent", departure: "2026-11-02", reservations, checkins)  // 29 days before
        try reservations.put(sample("gone"), source: "test")
        try reservations.delete(id: "gone", source: "test")
        try reservations.delete(id: "early", version: 5, source: "pms")  // a delete before its create: a tombstone of 1900
        #expect(try checkins.purge(afterDays: 30) == 1)
        #expect(try rows(reservations, "reservation", "old") == 0)
        for table in ["checkin", "checkin_guest", "terms_signature"] {
            #expect(try rows(reservations, table, "old") == 0, "\(table)")
            #expect(try rows(reservations, table, "recent") == 1, "\(table)")
        }
        #expect(try rows(reservations, "reservation", "early") == 1, "a young tombstone still blocks the late create")
        #expect(throws: ReservationError.self) { try reservations.put(sample("early", version: 4), source: "pms") }
        clock.now += 31 * 86_400
        #expect(try checkins.purge(afterDays: 30) == 3, "recent, gone and early: 31 days later")
        #expect(try reservations.store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkin_guest") } == 0)
    }

    func events(_ reservations: Reservations) throws -> [String] {
        try reservations.store.pool.read { db in try String.fetchAll(db, sql: "SELECT event FROM outbox_event ORDER BY sequence") }
    }

    @Test("erase: the check-in and its finished events go, the reservation keeps no names, contacts, reference or room, so an older update cannot bring it back")
    func erase() throws {
        let (reservations, checkins, _) = try make()
        try checkedIn("R-1", departure: "2026-12-04", reservations, checkins)
        #expect(try events(reservations) == ["arrival.guest_updated", "arrival.terms_signed"])
        try reservations.store.pool.write { db in
            try db.execute(sql: "UPDATE delivery SET status = 'delivered' WHERE event_sequence = (SELECT min(sequence) FROM outbox_event)")
        }
        var versioned = sample("R-2", version: 7)
        versioned.guests[0].email = "secret@example.com"
        try reservations.put(versioned, source: "pms")
        #expect(try checkins.erase(reservationID: "R-1"))
        #expect(try checkins.progress(reservationID: "R-1") == Checkins.Progress() && reservations.get(id: "R-1") == nil)
        #expect(try events(reservations) == ["arrival.terms_signed"], "the delivered event's copy goes; the pending one is still on its way upstream")
        #expect(try checkins.erase(reservationID: "R-2"))
        let row = try #require(try reservations.store.pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM reservation WHERE id = 'R-2'") })
        let reference: String = row["reference"], guests: String = row["guests"], search: String = row["search"]
        let version: Int64? = row["version"], deletedAt: Date? = row["deleted_at"]
        #expect(reference.isEmpty && guests == "[]" && search.isEmpty && version == 7 && deletedAt != nil)
        let key: String = row["reference_key"], room: String? = row["room"], language: String? = row["language"], hash: Data? = row["checkin_token_hash"]
        #expect(key.isEmpty && room == nil && language == nil && hash == nil)
        #expect(!String(describing: row).contains("secret") && !String(describing: row).lowercased().contains("muller")
                && !String(describing: row).contains("Müller"))
        #expect(throws: ReservationError.self) { try reservations.put(sample("R-2", version: 6), source: "pms") }
        #expect(try !checkins.erase(reservationID: "R-2"), "nothing left to erase")
        #expect(try !checkins.erase(reservationID: "never"))
    }

    @Test("an ordinary delete keeps a tombstone without personal data and drops the check-in at once: nothing is left to export or erase")
    func deleteKeepsNothing() throws {
        let (reservations, checkins, _) = try make()
        try checkedIn("R-3", departure: "2026-12-04", reservations, checkins)
        try reservations.delete(id: "R-3", source: "pms")
        #expect(try checkins.progress(reservationID: "R-3") == Checkins.Progress())
        let guests = try reservations.store.pool.read { db in try String.fetchOne(db, sql: "SELECT guests || reference || search FROM reservation WHERE id = 'R-3'") }
        #expect(guests == "[]")
        #expect(try !checkins.erase(reservationID: "R-3"), "nothing kept (its two events are still pending upstream)")
    }
}
