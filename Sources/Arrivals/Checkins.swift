import Foundation
import GRDB
import Outbox
import Store

/// Guests' progress through online check-in, one row per reservation and one per
/// guest, saved at every step. Each change a guest makes is reported upstream as an
/// event written in the same transaction (`arrival.guest_updated`, …).
public final class Checkins: Sendable {
    public let store: Store
    let outbox: Outbox
    /// The site's registration form (`[arrivals] registration` with its overrides).
    public let profile: RegistrationProfile
    public let timeZone: TimeZone
    /// How many days before the arrival day a guest may arrive (`[arrivals] early_arrival_days`).
    public let earlyArrivalDays: Int
    public let now: @Sendable () -> Date

    public init(store: Store, outbox: Outbox, profile: RegistrationProfile, timeZone: TimeZone, earlyArrivalDays: Int = 0,
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.outbox = outbox
        self.profile = profile
        self.timeZone = timeZone
        self.earlyArrivalDays = earlyArrivalDays
        self.now = now
    }

    /// The site's day now (dates of birth after it are refused).
    public var today: LocalDate { LocalDate(now(), in: timeZone) }

    /// What a reservation's check-in holds so far.
    public struct Progress: Sendable, Equatable {
        /// When the guest said "this is my booking".
        public var confirmedAt: Date?
        /// Saved details by position (0: the primary guest).
        public var guests: [Int: GuestDetails] = [:]
        public var terms: TermsSignature?
        /// When the reservation arrived through check-in (the API's or the guest's arrive),
        /// who arrived it (`guest`, `api:<token>`) and the key of that request.
        public var arrivedAt: Date?
        public var arrivedVia: String?
        public var arrivalKey: String?

        public var primary: GuestDetails? { guests[0] }

        public init() {}
    }

    public func progress(reservationID: String) throws -> Progress {
        try store.pool.read { db in try progress(reservationID: reservationID, in: db) }
    }

    func progress(reservationID: String, in db: Database) throws -> Progress {
        var progress = Progress()
        if let row = try Row.fetchOne(db, sql: "SELECT confirmed_at, arrived_at, arrived_via, arrival_key FROM checkin WHERE reservation_id = ?",
                                      arguments: [reservationID]) {
            progress.confirmedAt = row["confirmed_at"]
            progress.arrivedAt = row["arrived_at"]
            progress.arrivedVia = row["arrived_via"]
            progress.arrivalKey = row["arrival_key"]
        }
        progress.terms = try Self.signature(of: reservationID, in: db)
        for row in try Row.fetchAll(db, sql: "SELECT position, details FROM checkin_guest WHERE reservation_id = ?", arguments: [reservationID]) {
            progress.guests[row["position"]] = try Self.details(from: row["details"])
        }
        return progress
    }

    /// "This is my booking": kept once (the first time counts).
    public func confirm(reservationID: String) throws {
        try store.pool.write { db in
            try db.execute(sql: """
                INSERT INTO checkin(reservation_id, confirmed_at, updated_at) VALUES (?, ?, ?)
                ON CONFLICT(reservation_id) DO UPDATE SET confirmed_at = coalesce(confirmed_at, excluded.confirmed_at), updated_at = excluded.updated_at
                """, arguments: [reservationID, now(), now()])
        }
    }

    /// Saves a guest's details (already checked against the profile) and reports them
    /// as `arrival.guest_updated`. Saving what is already stored changes nothing and
    /// reports nothing (a guest pressing "Continue" twice). Returns whether it changed.
    @discardableResult
    public func save(_ details: GuestDetails, position: Int, of reservation: Reservation) throws -> Bool {
        let date = now()
        return try store.pool.write { db in
            let stored = try String.fetchOne(db, sql: "SELECT details FROM checkin_guest WHERE reservation_id = ? AND position = ?",
                                             arguments: [reservation.id, position])
            if let stored, try Self.details(from: stored) == details { return false }
            try db.execute(sql: """
                INSERT INTO checkin_guest(reservation_id, position, details, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(reservation_id, position) DO UPDATE SET details = excluded.details, updated_at = excluded.updated_at
                """, arguments: [reservation.id, position, Self.text(details), date])
            try touch(reservation.id, at: date, in: db)
            try outbox.record("arrival.guest_updated", data: event(reservation, ["guest": [
                "position": .number(Double(position)), "primary": .bool(position == 0),
                "details": details.jsonValue,
            ]]), at: date, in: db)
            return true
        }
    }

    /// An event's data: the reservation it is about, the profile its details follow, and `fields`.
    func event(_ reservation: Reservation, _ fields: [String: JSONValue]) -> JSONValue {
        .object(fields.merging(["reservation_id": .string(reservation.id), "reference": .string(reservation.reference),
                                "registration": .string(profile.name)]) { _, common in common })
    }

    static func text(_ details: GuestDetails) -> String {
        String(decoding: details.jsonValue.bytes, as: UTF8.self)
    }

    static func details(from text: String) throws -> GuestDetails {
        guard case .object(let object) = try JSONReader.read(Array(text.utf8)) else { return GuestDetails() }
        return GuestDetails(json: object.compactMapValues { if case .string(let value) = $0 { value } else { nil } })
    }
}
