import Foundation
import GRDB

/// What the front desk's day looks like in numbers, for metrics and `portald status`:
/// reservations by status, and today's arrivals (the site's day, in its time zone).
public struct ArrivalsFigures: Sendable, Equatable {
    /// Every status, zero included, for reservations not deleted.
    public var reservationsByStatus: [Reservation.Status: Int]
    /// Reservations that arrive today and are not cancelled.
    public var expectedToday: Int
    /// Reservations moved to in-house today by the arrive action (the guest's or the hotel's).
    public var arrivedToday: Int

    public static func read(in db: Database, now: Date, timeZone: TimeZone) throws -> ArrivalsFigures {
        var byStatus = Dictionary(uniqueKeysWithValues: Reservation.Status.allCases.map { ($0, 0) })
        for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM reservation WHERE deleted_at IS NULL GROUP BY status") {
            if let status = Reservation.Status(rawValue: row["status"]) { byStatus[status] = row["n"] }
        }
        let today = LocalDate(now, in: timeZone)
        let expected = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM reservation WHERE arrival = ? AND deleted_at IS NULL AND status != 'cancelled'
            """, arguments: [today.description]) ?? 0
        let arrived = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM checkin WHERE arrived_at >= ? AND arrived_at < ?",
                                       arguments: [today.adding(days: -1).end(in: timeZone), today.end(in: timeZone)]) ?? 0
        return ArrivalsFigures(reservationsByStatus: byStatus, expectedToday: expected, arrivedToday: arrived)
    }
}
