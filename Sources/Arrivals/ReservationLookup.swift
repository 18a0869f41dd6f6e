import Foundation
import GRDB

/// "Find my booking" for a guest without a link: the booking reference and a surname
/// on it, as a guest types them on a phone. Both are compared on their letters and
/// digits alone, without case or accents: "bkg a1b2c3" and "muller" find BKG-A1B2C3 of
/// Anna Müller. Only reservations a guest can still check in to are found.
public enum ReservationLookup {
    /// What a typed reference or name is compared by.
    public static func key(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in ReservationRecords.fold(text).unicodeScalars where CharacterSet.alphanumerics.contains(scalar) {
            scalars.append(scalar)
        }
        return String(scalars)
    }

    /// A name's words, each folded as `key` folds: "Müller-Lüdenscheidt, Anna" → ["muller", "ludenscheidt", "anna"].
    public static func words(_ text: String) -> [String] {
        ReservationRecords.fold(text).components(separatedBy: CharacterSet.alphanumerics.inverted).filter { !$0.isEmpty }
    }

    public static let findable: [Reservation.Status] = [.confirmed, .inHouse]

    /// The outcome of one try: the reservations the reference, the name (and the arrival
    /// date, when given) matched, each with its check-in link's hash (a pass is bound to it).
    public struct Result: Sendable {
        public var matches: [(stored: StoredReservation, linkHash: [UInt8])]
    }
}

extension Reservations {
    /// The findable reservations with `reference`, and those of them on which `surname` is
    /// a guest's last name (and that arrive on `arrival`, when given). The same queries
    /// run whatever matches, so the time taken says little about what exists.
    public func lookup(reference: String, surname: String, arrival: LocalDate? = nil) throws -> ReservationLookup.Result {
        let referenceKey = ReservationLookup.key(reference), surnameKey = ReservationLookup.key(surname)
        let statuses = ReservationLookup.findable.map(\.rawValue)
        // Stays not over yet (the site's today), a group's rooms included.
        let today = LocalDate(now(), in: timeZone).description
        let rows = try store.pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT * FROM reservation WHERE reference_key = ? AND deleted_at IS NULL AND status IN (?, ?) AND departure >= ?
                ORDER BY arrival, id LIMIT 500
                """), arguments: [referenceKey, statuses[0], statuses[1], today])
        }
        var result = ReservationLookup.Result(matches: [])
        guard !referenceKey.isEmpty, !surnameKey.isEmpty else { return result }
        for row in rows {
            // A row that is not deleted always has a link (only a delete clears it).
            guard let linkHash = row["checkin_token_hash"] as Data? else { continue }
            let stored = try stored(row)
            let named = stored.reservation.guests.contains { ReservationLookup.key($0.lastName) == surnameKey }
            if named && (arrival.map { $0 == stored.reservation.arrival } ?? true) { result.matches.append((stored, Array(linkHash))) }
        }
        return result
    }

    /// The reservation `id` while a guest can open it (`isOpenable`), with its check-in
    /// link's hash, which a pass is bound to.
    public func openable(id: String) throws -> (reservation: StoredReservation, linkHash: [UInt8])? {
        try store.pool.read { db in
            guard let row = try ReservationRecords.row(id: id, in: db), (row["deleted_at"] as Date?) == nil,
                  let hash = row["checkin_token_hash"] as Data? else { return nil }
            let stored = try stored(row)
            return isOpenable(stored) ? (stored, Array(hash)) : nil
        }
    }

    /// Not cancelled, no-show or checked out, and its link not expired.
    public func isOpenable(_ stored: StoredReservation) -> Bool {
        ReservationLookup.findable.contains(stored.reservation.status) && stored.checkinExpiresAt > now()
    }
}
