import Foundation
import GRDB
import Outbox

/// What portald keeps of a guest, and when it lets go (GDPR art. 5(1)(e), 15 and 17):
/// a stay's reservation and check-in are deleted `[arrivals] purge_after_days` after
/// departure, and on request at once. Upstream keeps the legal record: the events
/// carried the registration data when it was given.
extension Checkins {
    /// Erases a reservation's personal data now: its check-in (details, signature, progress),
    /// its `arrival.*` events that are no longer on their way upstream, and the reservation's
    /// names, contacts, reference and room. It stays as a tombstone (id, version, status,
    /// dates, guest counts), so an older update from the PMS cannot bring it back. False when
    /// nothing was kept.
    @discardableResult
    public func erase(reservationID: String) throws -> Bool {
        let date = now()
        return try store.pool.write { db in
            var erased = try Self.deleteCheckin(of: reservationID, in: db)
            try db.execute(sql: """
                UPDATE reservation SET \(ReservationRecords.personalDataCleared), source = 'erased', updated_at = ?, deleted_at = coalesce(deleted_at, ?)
                WHERE id = ? AND (deleted_at IS NULL OR guests != '[]')
                """, arguments: [date, date, reservationID])
            erased = erased || db.changesCount > 0
            erased = try Outbox.forgetFinished(prefix: "arrival.", reservationID: reservationID, in: db) > 0 || erased
            return erased
        }
    }

    /// Deletes stays that departed more than `days` days ago (site days), with their
    /// check-ins, and tombstones older than that. Returns how many reservations went.
    @discardableResult
    public func purge(afterDays days: Int) throws -> Int {
        let cutoff = today.adding(days: -days).description
        let tombstones = now().addingTimeInterval(-Double(days) * 86_400)
        return try store.pool.write { db in
            // A tombstone is kept by its own age, not its stay's: it blocks a late older update.
            try db.execute(sql: "DELETE FROM reservation WHERE (deleted_at IS NULL AND departure < ?) OR deleted_at < ?",
                           arguments: [cutoff, tombstones])
            let purged = db.changesCount
            for table in Self.checkinTables {
                try db.execute(sql: "DELETE FROM \(table) WHERE reservation_id NOT IN (SELECT id FROM reservation WHERE deleted_at IS NULL)")
            }
            // Events of stays gone that never reached upstream (dead, or for a suspended endpoint)
            // would keep registration data for ever: finished ones go too (pending ones are still on their way).
            try Outbox.forgetFinished(prefix: "arrival.", reservationIDsNotIn: "SELECT id FROM reservation", in: db)
            return purged
        }
    }

    /// Every table holding a reservation's check-in, keyed by `reservation_id`.
    static let checkinTables = ["checkin", "checkin_guest", "terms_signature", "companion_invite"]

    @discardableResult
    static func deleteCheckin(of reservationID: String, in db: Database) throws -> Bool {
        var deleted = false
        for table in checkinTables {
            try db.execute(sql: "DELETE FROM \(table) WHERE reservation_id = ?", arguments: [reservationID])
            deleted = deleted || db.changesCount > 0
        }
        return deleted
    }
}
