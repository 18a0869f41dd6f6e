import Foundation
import GRDB
import Store

/// Deliveries from the hotel's systems already applied, so a retried or replayed
/// delivery changes nothing: by its webhook-id (Standard Webhooks), or by the hash of
/// its body (GUEST, whose deliveries carry no id). Kept for a day.
public enum InboundReceipts {
    public static let retention: TimeInterval = 24 * 3600

    /// Whether `key` from `source` was applied within the retention.
    public static func seen(source: String, key: String, at date: Date, in db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM inbound_receipt WHERE source_id = ? AND key = ? AND received_at > ?"),
                          arguments: [source, key, date.addingTimeInterval(-retention)]) ?? false
    }

    /// Records `key` as applied (in the transaction that applied it), dropping the source's
    /// receipts older than the retention on the way.
    public static func record(source: String, key: String, at date: Date, in db: Database) throws {
        // Cached statements: an import sends thousands of deliveries.
        try db.cachedStatement(sql: "DELETE FROM inbound_receipt WHERE source_id = ? AND received_at <= ?")
            .execute(arguments: [source, date.addingTimeInterval(-retention)])
        try db.cachedStatement(sql: "INSERT OR REPLACE INTO inbound_receipt(source_id, key, received_at) VALUES (?, ?, ?)")
            .execute(arguments: [source, key, date])
    }
}

/// What one inbound delivery asks for, in the domain's terms.
public enum ReservationChange: Sendable, Equatable {
    case upsert(Reservation)
    case delete(id: String, version: Int64?)
}

extension Reservations {
    /// The result of applying one change from a source.
    public enum InboundOutcome: Sendable, Equatable {
        case applied(Outcome)
        case deleted
        /// Already applied (the same delivery again): nothing changed.
        case duplicate
        /// Older than what is stored: nothing changed.
        case stale(stored: Int64)
        /// A delete of a reservation portald never had.
        case unknown
    }

    /// Applies `change` from `source` unless the delivery `key` was applied before; the
    /// change and its receipt commit together, so a crash between them cannot apply twice.
    public func apply(_ change: ReservationChange, source: String, key: String) throws -> InboundOutcome {
        try store.groupWrite { db in
            let date = self.now()
            if try InboundReceipts.seen(source: source, key: key, at: date, in: db) { return .duplicate }
            let outcome: InboundOutcome
            do {
                switch change {
                // The PMS's word on status stands, ordered or not: refusing it would only make it retry.
                case .upsert(let reservation): outcome = .applied(try self.put(reservation, source: "inbound:" + source, enforceMoves: false, in: db).1)
                case .delete(let id, let version): outcome = try self.delete(id: id, version: version, source: "inbound:" + source, in: db) ? .deleted : .duplicate
                }
            } catch ReservationError.stale(_, let stored, _) {
                outcome = .stale(stored: stored)
            } catch ReservationError.notFound {
                outcome = .unknown
            }
            try InboundReceipts.record(source: source, key: key, at: date, in: db)
            return outcome
        }
    }
}
