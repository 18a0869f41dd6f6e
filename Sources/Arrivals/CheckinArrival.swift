import Foundation
import GRDB
import Outbox

/// Signing the terms and arriving: the last two steps of check-in.
extension Checkins {
    /// Keeps the guest's signature (a new one replaces an earlier: the latest text agreed
    /// to is the one that counts) and reports it as `arrival.terms_signed`.
    public func sign(_ signature: TermsSignature, of reservation: Reservation) throws {
        try store.pool.write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO terms_signature(reservation_id, name, signed_at, client_address, user_agent, language, terms_version,
                    terms_sha256, marketing) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [reservation.id, signature.name, signature.signedAt, signature.clientAddress, signature.userAgent,
                                 signature.language, signature.termsVersion, signature.termsSHA256, signature.marketing])
            try touch(reservation.id, at: signature.signedAt, in: db)
            try outbox.record("arrival.terms_signed", data: event(reservation, [
                "name": .string(signature.name), "signed_at": .string(RFC3339.string(signature.signedAt)),
                "client_address": .string(signature.clientAddress), "user_agent": .string(signature.userAgent),
                "language": .string(signature.language), "terms_version": .string(signature.termsVersion),
                "terms_sha256": .string(signature.termsSHA256), "marketing_consent": .bool(signature.marketing),
            ]), at: signature.signedAt, in: db)
        }
    }

    static func signature(of reservationID: String, in db: Database) throws -> TermsSignature? {
        try Row.fetchOne(db, sql: "SELECT * FROM terms_signature WHERE reservation_id = ?", arguments: [reservationID]).map { row in
            TermsSignature(name: row["name"], signedAt: row["signed_at"], clientAddress: row["client_address"], userAgent: row["user_agent"],
                           language: row["language"], termsVersion: row["terms_version"], termsSHA256: row["terms_sha256"], marketing: row["marketing"])
        }
    }

    /// What stands between a check-in and its arrival, in the order the guest meets it.
    public struct Missing: Sendable, Equatable {
        public var confirmation = false
        /// Required fields of the primary guest without a value (all of them before any were saved).
        public var details: [RegistrationField] = []
        /// Companions' places whose details are missing or incomplete, when the profile registers everyone.
        public var companions: [Int] = []
        public var terms = false
        public var isEmpty: Bool { !confirmation && details.isEmpty && companions.isEmpty && !terms }

        public init(confirmation: Bool = false, details: [RegistrationField] = [], companions: [Int] = [], terms: Bool = false) {
            self.confirmation = confirmation
            self.details = details
            self.companions = companions
            self.terms = terms
        }
    }

    public func missing(for reservation: Reservation, in progress: Progress) -> Missing {
        let companions = profile.registersEveryone ? (0..<Self.companionPlaces(reservation)).map { $0 + 1 }.filter { place in
            progress.guests[place].map { !profile.missing(in: $0, primary: false, on: reservation.arrival).isEmpty } ?? true
        } : []
        return Missing(confirmation: progress.confirmedAt == nil,
                       details: profile.missing(in: progress.primary ?? GuestDetails(), primary: true, on: reservation.arrival),
                       companions: companions, terms: progress.terms == nil)
    }

    /// Why an arrival was refused.
    public enum ArrivalRefusal: Error, Equatable {
        /// Before the arrival day (less the early-arrival window): `opens` is when it may.
        case tooEarly(opens: LocalDate)
        /// Cancelled, a no-show, or checked out.
        case notArrivable(Reservation.Status)
        /// The departure day has come: nothing left to arrive for.
        case stayOver
        case incomplete(Missing)
        case notFound
    }

    /// The outcome: when the guest arrived, and whether this call did it.
    public struct Arrival: Sendable, Equatable {
        public var arrivedAt: Date
        /// The reservation's status now: in_house, unless the PMS has moved it on since.
        public var status: Reservation.Status
        /// The key the arriving call carried (the first one: repeats return it).
        public var idempotencyKey: String?
        public var via: String
        /// False when the reservation had arrived before (nothing changed, nothing reported).
        public var changed: Bool
    }

    /// The first day a reservation may arrive online: its arrival day, less `earlyArrivalDays`.
    public func arrivalOpens(_ reservation: Reservation) -> LocalDate { reservation.arrival.adding(days: -earlyArrivalDays) }

    /// Whether some booking may arrive online today: confirmed, its window open, its stay not over.
    public func anyArrivalOpen() throws -> Bool {
        let today = self.today
        return try store.pool.read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM reservation WHERE deleted_at IS NULL AND status = 'confirmed' AND arrival <= ? AND departure > ?)
                """, arguments: [today.adding(days: earlyArrivalDays).description, today.description]) ?? false
        }
    }

    /// Moves the reservation to `in_house` once, with `arrival.arrived` in the same
    /// transaction. A repeat, concurrent or later, returns the first arrival and reports
    /// nothing. `via`: "guest" or the API token's name, reported.
    public func arrive(reservationID: String, key: String?, via: String) throws -> Arrival {
        let date = now()
        // One write transaction: SQLite runs them one at a time, so of concurrent arrives
        // exactly one finds the reservation still confirmed.
        return try store.pool.write { db in
            guard let row = try ReservationRecords.row(id: reservationID, in: db), (row["deleted_at"] as Date?) == nil else {
                throw ArrivalRefusal.notFound
            }
            let reservation = try ReservationRecords.reservation(row)
            let checkin = try Row.fetchOne(db, sql: "SELECT arrived_at, arrival_key, arrived_via FROM checkin WHERE reservation_id = ?",
                                           arguments: [reservationID])
            // Arrived here before: the same answer, whatever the PMS has done to the status since
            // (an update sent before it heard of the arrival must not open a second one).
            if let arrivedAt: Date = checkin?["arrived_at"] {
                return Arrival(arrivedAt: arrivedAt, status: reservation.status, idempotencyKey: checkin?["arrival_key"],
                               via: checkin?["arrived_via"] ?? "guest", changed: false)
            }
            if reservation.status == .inHouse {
                // Checked in at the desk (the PMS said so): arrived, by someone else.
                return Arrival(arrivedAt: row["updated_at"], status: .inHouse, idempotencyKey: nil, via: "pms", changed: false)
            }
            guard reservation.status == .confirmed else { throw ArrivalRefusal.notArrivable(reservation.status) }
            let today = LocalDate(date, in: timeZone)
            guard today < reservation.departure else { throw ArrivalRefusal.stayOver }
            let opens = arrivalOpens(reservation)
            guard today >= opens else { throw ArrivalRefusal.tooEarly(opens: opens) }
            let missing = missing(for: reservation, in: try progress(reservationID: reservationID, in: db))
            guard missing.isEmpty else { throw ArrivalRefusal.incomplete(missing) }

            try db.execute(sql: "UPDATE reservation SET status = 'in_house', updated_at = ? WHERE id = ?", arguments: [date, reservationID])
            try db.execute(sql: """
                UPDATE checkin SET arrived_at = ?, arrival_key = ?, arrived_via = ?, updated_at = ? WHERE reservation_id = ? AND arrived_at IS NULL
                """, arguments: [date, key, via, date, reservationID])
            try outbox.record("arrival.arrived", data: event(reservation, [
                "arrived_at": .string(RFC3339.string(date)), "idempotency_key": key.map(JSONValue.string) ?? .null, "via": .string(via),
                "room": reservation.room.map(JSONValue.string) ?? .null,
            ]), at: date, in: db)
            return Arrival(arrivedAt: date, status: .inHouse, idempotencyKey: key, via: via, changed: true)
        }
    }

    func touch(_ reservationID: String, at date: Date, in db: Database) throws {
        try db.execute(sql: """
            INSERT INTO checkin(reservation_id, updated_at) VALUES (?, ?)
            ON CONFLICT(reservation_id) DO UPDATE SET updated_at = excluded.updated_at
            """, arguments: [reservationID, date])
    }

}
