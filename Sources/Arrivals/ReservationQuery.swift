import Foundation
import GRDB

/// A page of `GET /api/v1/reservations`: filters, and a cursor that continues after
/// the last row (ordered by arrival, then id), so pages stay exact while rows change.
public struct ReservationQuery: Sendable, Equatable {
    public var arrivalFrom: LocalDate?
    public var arrivalTo: LocalDate?
    public var statuses: Set<Reservation.Status> = []
    /// Words looked for in the reference, room, guests' names, emails and phones.
    public var text: String?
    public var limit = 50
    public var after: Cursor?

    public static let limits = 1...500

    public init(arrivalFrom: LocalDate? = nil, arrivalTo: LocalDate? = nil, statuses: Set<Reservation.Status> = [], text: String? = nil,
                limit: Int = 50, after: Cursor? = nil) {
        self.arrivalFrom = arrivalFrom
        self.arrivalTo = arrivalTo
        self.statuses = statuses
        self.text = text
        self.limit = limit
        self.after = after
    }

    /// Where a page ended: `<arrival>~<id>` of its last row. Any such text is a valid
    /// position (rows are compared as text), so a hand-made cursor cannot break a listing.
    public struct Cursor: Sendable, Equatable {
        public var arrival: String
        public var id: String

        public init(arrival: LocalDate, id: String) {
            self.arrival = arrival.description
            self.id = id
        }

        public static let pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}~[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"

        public init?(_ text: String) {
            let parts = text.split(separator: "~", maxSplits: 1, omittingEmptySubsequences: false)
            // Any date-shaped text is a position (compared as text): no calendar check here.
            guard parts.count == 2, LocalDate.hasShape(parts[0].utf8), TextShapes.isReservationID(parts[1]) else { return nil }
            arrival = String(parts[0])
            id = String(parts[1])
        }

        public var text: String { "\(arrival)~\(id)" }
    }
}

public struct ReservationPage: Sendable {
    public var reservations: [StoredReservation]
    /// Where the next page starts; nil on the last page.
    public var next: ReservationQuery.Cursor?
}

extension Reservations {
    public func list(_ query: ReservationQuery) throws -> ReservationPage {
        var conditions = ["deleted_at IS NULL"]
        var arguments: StatementArguments = []
        if let from = query.arrivalFrom {
            conditions.append("arrival >= ?")
            arguments += [from.description]
        }
        if let to = query.arrivalTo {
            conditions.append("arrival <= ?")
            arguments += [to.description]
        }
        if !query.statuses.isEmpty {
            conditions.append("status IN (\(query.statuses.map { _ in "?" }.joined(separator: ", ")))")
            arguments += StatementArguments(query.statuses.map(\.rawValue).sorted())
        }
        // Every word must appear somewhere; LIKE's wildcards in a word are taken literally.
        for word in ReservationRecords.fold(query.text ?? "").split(whereSeparator: \.isWhitespace) {
            conditions.append("search LIKE ? ESCAPE '\\'")
            let escaped = word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
            arguments += ["%\(escaped)%"]
        }
        if let after = query.after {
            conditions.append("(arrival, id) > (?, ?)")
            arguments += [after.arrival, after.id]
        }
        let sql = "SELECT * FROM reservation WHERE \(conditions.joined(separator: " AND ")) ORDER BY arrival, id LIMIT \(query.limit + 1)"
        return try store.pool.read { db in
            let rows = try Row.fetchAll(db, sql: sql, arguments: arguments)
            let page = try rows.prefix(query.limit).map { try stored($0) }
            let next = rows.count > query.limit ? page.last.map { ReservationQuery.Cursor(arrival: $0.reservation.arrival, id: $0.reservation.id) } : nil
            return ReservationPage(reservations: page, next: next)
        }
    }
}
