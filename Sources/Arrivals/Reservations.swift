import Foundation
import GRDB
import Store

/// The reservations portald holds: upserts that respect the source's versions,
/// tombstoned deletes, search, and check-in links. Every method is one SQLite
/// transaction (callers run it off Swift's cooperative threads); the `in db:`
/// forms join a caller's transaction (an inbound delivery and its replay record).
public final class Reservations: Sendable {
    public let store: Store
    /// The site's zone: check-in links end with the departure day there.
    public let timeZone: TimeZone
    /// `[arrivals] public_url`: links are built from it, never from a request.
    public let linkBase: URL
    public let now: @Sendable () -> Date

    public init(store: Store, timeZone: TimeZone, linkBase: URL, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.timeZone = timeZone
        self.linkBase = linkBase
        self.now = now
    }

    public enum Outcome: Sendable, Equatable {
        case created, updated, unchanged
    }

    /// Stores `reservation` unless the stored one has a higher version (`.stale`), or its
    /// status cannot move to the new one (`.invalid` on `status`). A new reservation (or
    /// one deleted before) gets a check-in link, returned in `checkinURL`.
    @discardableResult
    public func put(_ reservation: Reservation, source: String) throws -> (StoredReservation, Outcome) {
        // Shared commits: an import over several connections is not one fsync per reservation.
        try store.groupWrite { db in try self.put(reservation, source: source, in: db) }
    }

    /// `enforceMoves`: false for the PMS's own deliveries, whose status is the truth even
    /// without a version to order them.
    @discardableResult
    public func put(_ reservation: Reservation, source: String, enforceMoves: Bool = true, in db: Database) throws -> (StoredReservation, Outcome) {
        let date = now()
        var reservation = reservation
        if let row = try ReservationRecords.row(id: reservation.id, in: db) {
            let storedVersion: Int64? = row["version"]
            let deleted = (row["deleted_at"] as Date?) != nil
            // A tombstone also outranks its own version: a redelivered update must not resurrect.
            if let storedVersion, let offered = reservation.version, offered < storedVersion || (deleted && offered == storedVersion) {
                throw ReservationError.stale(id: reservation.id, stored: storedVersion, offered: offered)
            }
            let newer = storedVersion.flatMap { stored in reservation.version.map { $0 > stored } } ?? false
            reservation.version = reservation.version ?? storedVersion
            if !deleted {
                let current = try ReservationRecords.reservation(row)
                if current == reservation { return (try stored(row), .unchanged) }
                // A newer version from the source is the PMS's word, whatever came between
                // (updates overtake each other); the front desk's rules hold for the rest.
                guard newer || !enforceMoves || current.status.canBecome(reservation.status) else {
                    throw ReservationError.invalid(field: "status", message:
                        "a reservation cannot go from \(current.status.rawValue) to \(reservation.status.rawValue)")
                }
                try ReservationRecords.update(reservation, source: source, at: date, in: db)
                // Built from what was written rather than read back: an import does thousands.
                return (StoredReservation(reservation: reservation, createdAt: row["created_at"], updatedAt: date, source: source,
                                          checkinExpiresAt: CheckinLink.expiry(departure: reservation.departure, in: timeZone)), .updated)
            }
        }
        let link = CheckinLink.newToken()
        try ReservationRecords.insert(reservation, source: source, tokenHash: link.hash, at: date, in: db)
        return (StoredReservation(reservation: reservation, createdAt: date, updatedAt: date, source: source,
                                  checkinExpiresAt: CheckinLink.expiry(departure: reservation.departure, in: timeZone),
                                  checkinURL: CheckinLink.url(base: linkBase, token: link.token)), .created)
    }

    /// The reservation, unless it was deleted.
    public func get(id: String) throws -> StoredReservation? {
        try store.pool.read { db in try stored(id: id, in: db) }
    }

    public func stored(id: String, in db: Database) throws -> StoredReservation? {
        guard let row = try ReservationRecords.row(id: id, in: db), (row["deleted_at"] as Date?) == nil else { return nil }
        return try stored(row)
    }

    /// Deletes the reservation, keeping a tombstone with its version so older updates
    /// stay ignored. Returns false when it was already deleted (a repeated DELETE).
    /// `version`, when given, must not be older than the stored one.
    @discardableResult
    public func delete(id: String, version: Int64? = nil, source: String) throws -> Bool {
        try store.pool.write { db in try delete(id: id, version: version, source: source, in: db) }
    }

    public func delete(id: String, version: Int64?, source: String, in db: Database) throws -> Bool {
        guard let row = try ReservationRecords.row(id: id, in: db) else {
            guard let version else { throw ReservationError.notFound(id: id) }
            // A delete that arrives before its reservation (deliveries out of order): the
            // tombstone keeps the later, older create from appearing.
            try db.execute(sql: """
                INSERT INTO reservation(id, reference, status, arrival, departure, adults, children, babies, guests, version, source,
                    search, created_at, updated_at, deleted_at)
                VALUES (?, '', 'cancelled', '1900-01-01', '1900-01-01', 0, 0, 0, '[]', ?, ?, '', ?, ?, ?)
                """, arguments: [id, version, source, now(), now(), now()])
            return true
        }
        let storedVersion: Int64? = row["version"]
        if let storedVersion, let version, version < storedVersion {
            throw ReservationError.stale(id: id, stored: storedVersion, offered: version)
        }
        let wasDeleted = (row["deleted_at"] as Date?) != nil
        // A tombstone needs its id and version alone: names, contacts and the check-in go now.
        try db.execute(sql: """
            UPDATE reservation SET deleted_at = coalesce(deleted_at, ?), version = ?, source = ?, \(ReservationRecords.personalDataCleared) WHERE id = ?
            """, arguments: [now(), version ?? storedVersion, source, id])
        try Checkins.deleteCheckin(of: id, in: db)
        return !wasDeleted
    }

    /// A new check-in link; the old one stops working at once.
    public func rotateLink(id: String) throws -> StoredReservation {
        try store.pool.write { db in
            guard var reservation = try stored(id: id, in: db) else { throw ReservationError.notFound(id: id) }
            let link = CheckinLink.newToken()
            try db.execute(sql: "UPDATE reservation SET checkin_token_hash = ?, updated_at = ? WHERE id = ?", arguments: [Data(link.hash), now(), id])
            reservation.checkinURL = CheckinLink.url(base: linkBase, token: link.token)
            return reservation
        }
    }

    /// The reservation a check-in link opens, if the link is current and not expired.
    public func reservation(forLinkToken token: String) throws -> StoredReservation? {
        let hash = CheckinLink.hash(token)
        return try store.pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM reservation WHERE checkin_token_hash = ? AND deleted_at IS NULL",
                                             arguments: [Data(hash)]) else { return nil }
            let reservation = try stored(row)
            return reservation.checkinExpiresAt > now() ? reservation : nil
        }
    }

    func stored(_ row: Row) throws -> StoredReservation {
        let reservation = try ReservationRecords.reservation(row)
        return StoredReservation(reservation: reservation, createdAt: row["created_at"], updatedAt: row["updated_at"], source: row["source"],
                                 checkinExpiresAt: CheckinLink.expiry(departure: reservation.departure, in: timeZone))
    }
}
