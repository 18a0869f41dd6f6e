import Foundation
import GRDB
import Outbox

/// Reservations as rows: the only place that turns columns into typed values.
enum ReservationRecords {
    /// The columns a tombstone clears: what names, reaches or finds a guest (id, version,
    /// status, dates and counts stay, so an older update cannot bring the row back).
    static let personalDataCleared = "reference = '', reference_key = '', room = NULL, language = NULL, guests = '[]', search = '', checkin_token_hash = NULL"

    /// The row for `id`, deleted or not.
    static func row(id: String, in db: Database) throws -> Row? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM reservation WHERE id = ?"), arguments: [id])
    }

    static func reservation(_ row: Row) throws -> Reservation {
        let guestsJSON: String = row["guests"]
        let statusText: String = row["status"]
        guard let status = Reservation.Status(rawValue: statusText),
              let arrival = LocalDate(row["arrival"] as String), let departure = LocalDate(row["departure"] as String),
              let guests = try? JSONDecoder().decode([Reservation.Guest].self, from: Data(guestsJSON.utf8)) else {
            throw DatabaseError(message: "reservation \(row["id"] as String) has an unreadable row")
        }
        return Reservation(id: row["id"], reference: row["reference"], status: status, arrival: arrival, departure: departure,
                           room: row["room"], adults: row["adults"], children: row["children"], babies: row["babies"],
                           language: row["language"], guests: guests, version: row["version"])
    }

    /// Inserts, or replaces a tombstone: `deleted_at` cleared, `created_at` now.
    static func insert(_ reservation: Reservation, source: String, tokenHash: [UInt8], at date: Date, in db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO reservation(id, reference, status, arrival, departure, room, adults, children, babies, language,
                guests, version, source, search, checkin_token_hash, created_at, updated_at, deleted_at, reference_key)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)
            """).execute(arguments: columns(reservation) + [source, search(reservation), Data(tokenHash), date, date,
                                                           ReservationLookup.key(reservation.reference)])
    }

    static func update(_ reservation: Reservation, source: String, at date: Date, in db: Database) throws {
        try db.cachedStatement(sql: """
            UPDATE reservation SET reference = ?2, status = ?3, arrival = ?4, departure = ?5, room = ?6, adults = ?7, children = ?8,
                babies = ?9, language = ?10, guests = ?11, version = ?12, source = ?13, search = ?14, updated_at = ?15,
                reference_key = ?16
            WHERE id = ?1
            """).execute(arguments: columns(reservation) + [source, search(reservation), date, ReservationLookup.key(reservation.reference)])
    }

    private static func columns(_ reservation: Reservation) -> StatementArguments {
        [reservation.id, reservation.reference, reservation.status.rawValue, reservation.arrival.description,
         reservation.departure.description, reservation.room, reservation.adults, reservation.children, reservation.babies,
         reservation.language, String(decoding: JSON.encode(reservation.guests), as: UTF8.self), reservation.version]
    }

    /// What `q` searches: reference, room and every guest's names, email and phone,
    /// lowercased and without accents ("muller" finds Müller).
    static func search(_ reservation: Reservation) -> String {
        let words = [reservation.reference, reservation.room ?? ""]
            + reservation.guests.flatMap { [$0.firstName, $0.lastName, $0.email ?? "", $0.phone ?? ""] }
        return fold(words.filter { !$0.isEmpty }.joined(separator: "\u{1F}"))
    }

    static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil).lowercased()
    }
}
