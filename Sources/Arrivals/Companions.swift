import Foundation
import GRDB
import Outbox

/// The people travelling with the primary guest: up to adults + children − 1 places.
/// The primary guest fills a place in, or invites its companion with a link of its own
/// (`/claim/{token}`, 144 random bits, kept as a hash) that works once: claiming it
/// gives the companion a new token of their own, and the invite's token only says it was taken.
extension Checkins {
    /// How many companions a reservation has places for (babies register with a parent).
    public static func companionPlaces(_ reservation: Reservation) -> Int { max(0, reservation.adults + reservation.children - 1) }

    /// An invite to a place: made, and claimed (then the companion's own link is live).
    public struct Invitation: Sendable, Equatable {
        public var createdAt: Date
        public var claimedAt: Date?
    }

    public enum CompanionError: Error, Equatable {
        /// Not one of the reservation's places (1 … companionPlaces).
        case noSuchPlace(Int)
    }

    /// The reservation's invites by place.
    public func invitations(reservationID: String) throws -> [Int: Invitation] {
        try store.pool.read { db in
            var invitations: [Int: Invitation] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT position, created_at, claimed_at FROM companion_invite WHERE reservation_id = ?",
                                        arguments: [reservationID]) {
                invitations[row["position"]] = Invitation(createdAt: row["created_at"], claimedAt: row["claimed_at"])
            }
            return invitations
        }
    }

    /// A new invite link's token for a place: shown once, kept as its hash. An earlier invite
    /// to the place, claimed or not, stops working.
    public func invite(position: Int, of reservation: Reservation) throws -> String {
        guard (1...max(1, Self.companionPlaces(reservation))).contains(position), Self.companionPlaces(reservation) > 0 else {
            throw CompanionError.noSuchPlace(position)
        }
        let link = CheckinLink.newToken()
        try store.pool.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO companion_invite(reservation_id, position, token_hash, own_hash, created_at, claimed_at) VALUES (?, ?, ?, NULL, ?, NULL)
                """, arguments: [reservation.id, position, Data(link.hash), now()])
        }
        return link.token
    }

    /// Ends a place's invite (claimed or not): its link stops working. Details already given stay.
    @discardableResult
    public func revoke(position: Int, reservationID: String) throws -> Bool {
        try store.pool.write { db in
            try db.execute(sql: "DELETE FROM companion_invite WHERE reservation_id = ? AND position = ?", arguments: [reservationID, position])
            return db.changesCount > 0
        }
    }

    /// What a `/claim/{token}` token is: an invite not yet claimed, one claimed already, or
    /// a companion's own link.
    public enum CompanionToken: Sendable, Equatable {
        case invite(reservationID: String, position: Int)
        case taken(reservationID: String, position: Int)
        case companion(reservationID: String, position: Int)
    }

    public func companionToken(_ token: String) throws -> CompanionToken? {
        let hash = Data(CheckinLink.hash(token))
        return try store.pool.read { db in
            if let row = try Row.fetchOne(db, sql: "SELECT reservation_id, position FROM companion_invite WHERE own_hash = ?", arguments: [hash]) {
                return .companion(reservationID: row["reservation_id"], position: row["position"])
            }
            guard let row = try Row.fetchOne(db, sql: "SELECT reservation_id, position, claimed_at FROM companion_invite WHERE token_hash = ?",
                                             arguments: [hash]) else { return nil }
            let claimed = (row["claimed_at"] as Date?) != nil
            return claimed ? .taken(reservationID: row["reservation_id"], position: row["position"])
                : .invite(reservationID: row["reservation_id"], position: row["position"])
        }
    }

    /// Claims an invite once: the companion's own token, or nil when the invite is unknown,
    /// revoked or claimed already (by someone faster: one claim wins, whatever the race).
    /// Reported as `arrival.companion_claimed`.
    public func claim(_ token: String, of reservation: Reservation) throws -> String? {
        let own = CheckinLink.newToken()
        let date = now()
        return try store.pool.write { db in
            try db.execute(sql: """
                UPDATE companion_invite SET own_hash = ?, claimed_at = ? WHERE token_hash = ? AND claimed_at IS NULL AND reservation_id = ?
                """, arguments: [Data(own.hash), date, Data(CheckinLink.hash(token)), reservation.id])
            guard db.changesCount == 1 else { return nil }
            let position = try Int.fetchOne(db, sql: "SELECT position FROM companion_invite WHERE own_hash = ?", arguments: [Data(own.hash)]) ?? 0
            try touch(reservation.id, at: date, in: db)
            try outbox.record("arrival.companion_claimed", data: event(reservation, [
                "position": .number(Double(position)), "claimed_at": .string(RFC3339.string(date)),
            ]), at: date, in: db)
            return own.token
        }
    }
}
