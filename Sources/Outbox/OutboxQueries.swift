import Foundation
import GRDB

/// What operators ask of the outbox: list, show, replay, stats.
extension Outbox {
    public func list(status: DeliveryStatus?, limit: Int, in db: Database) throws -> [OutboxEventView] {
        var sql = "SELECT DISTINCT e.* FROM outbox_event e JOIN delivery d ON d.event_sequence = e.sequence"
        var arguments: StatementArguments = []
        if let status {
            sql += " WHERE d.status = ?"
            arguments += [status.rawValue]
        }
        sql += " ORDER BY e.sequence DESC LIMIT ?"
        arguments += [limit]
        return try OutboxEventRecord.fetchAll(db, sql: sql, arguments: arguments).map { try view($0, in: db, detailed: false) }
    }

    public func show(id: String, in db: Database) throws -> OutboxEventView? {
        try OutboxEventRecord.filter(Column("id") == id).fetchOne(db).map { try view($0, in: db, detailed: true) }
    }

    /// Makes the event's deliveries (all, or one endpoint's) pending again, due now.
    public func replay(id: String, endpoint: String? = nil, at date: Date, in db: Database) throws -> Int {
        guard let event = try OutboxEventRecord.filter(Column("id") == id).fetchOne(db) else { return -1 }
        // Only to endpoints that still exist: a deleted one's deliveries would wait forever.
        let known = endpoints.map(\.id)
        var sql = "UPDATE delivery SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE event_sequence = ?"
            + " AND endpoint_id IN (\(known.map { _ in "?" }.joined(separator: ", ")))"
        var arguments: StatementArguments = [date, date, event.sequence!]
        arguments += StatementArguments(known)
        if let endpoint {
            sql += " AND endpoint_id = ?"
            arguments += [endpoint]
        }
        try db.execute(sql: sql, arguments: arguments)
        wakeAfterCommit(db)
        return db.changesCount
    }

    /// Every dead delivery back to pending.
    public func replayDead(at date: Date, in db: Database) throws -> Int {
        let known = endpoints.map(\.id)
        var arguments: StatementArguments = [date, date]
        arguments += StatementArguments(known)
        try db.execute(sql: """
            UPDATE delivery SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ?
            WHERE status = 'dead' AND endpoint_id IN (\(known.map { _ in "?" }.joined(separator: ", ")))
            """, arguments: arguments)
        wakeAfterCommit(db)
        return db.changesCount
    }

    public func stats(in db: Database) throws -> OutboxStats {
        let rows = try Row.fetchAll(db, sql: """
            SELECT endpoint_id, status, COUNT(*) AS n, MIN(CASE WHEN status = 'pending' THEN e.created_at END) AS oldest
            FROM delivery d JOIN outbox_event e ON e.sequence = d.event_sequence GROUP BY endpoint_id, status
            """)
        let suspended = try Set(String.fetchAll(db, sql: "SELECT endpoint_id FROM endpoint_state WHERE suspended_at IS NOT NULL"))
        var byEndpoint: [String: OutboxStats.Endpoint] = [:]
        for endpoint in endpoints {
            let status = endpoint.status == .active && suspended.contains(endpoint.id) ? "suspended" : endpoint.status.rawValue
            byEndpoint[endpoint.id] = .init(id: endpoint.id, status: status, pending: 0, delivered: 0, dead: 0)
        }
        for row in rows {
            let id: String = row["endpoint_id"]
            var entry = byEndpoint[id] ?? .init(id: id, status: "removed", pending: 0, delivered: 0, dead: 0)
            let count: Int = row["n"]
            switch row["status"] as String {
            case "pending":
                entry.pending = count
                entry.oldestPendingAt = row["oldest"]
            case "delivered": entry.delivered = count
            default: entry.dead = count
            }
            byEndpoint[id] = entry
        }
        let list = byEndpoint.values.sorted { $0.id < $1.id }
        return OutboxStats(pending: list.map(\.pending).reduce(0, +), delivered: list.map(\.delivered).reduce(0, +),
                           dead: list.map(\.dead).reduce(0, +), endpoints: list)
    }

    private func view(_ record: OutboxEventRecord, in db: Database, detailed: Bool) throws -> OutboxEventView {
        let deliveries = try DeliveryRecord.filter(Column("event_sequence") == record.sequence!).order(Column("endpoint_id")).fetchAll(db)
        var view = OutboxEventView(id: record.id, event: record.event, createdAt: record.createdAt, deliveries: deliveries.map {
            .init(endpoint: $0.endpointID, status: $0.status.rawValue, attempts: $0.attempts,
                  nextAttemptAt: $0.status == .pending ? $0.nextAttemptAt : nil, lastError: $0.lastError)
        })
        if detailed {
            view.envelope = JSONValue(json: record.body)
            view.body = String(decoding: record.body, as: UTF8.self)
            view.attempts = try DeliveryAttemptRecord.filter(Column("event_sequence") == record.sequence!).order(Column("id")).fetchAll(db).map {
                .init(endpoint: $0.endpointID, attemptedAt: $0.attemptedAt, url: $0.url, statusCode: $0.statusCode, latencyMs: $0.latencyMs, error: $0.error)
            }
        }
        return view
    }
}
