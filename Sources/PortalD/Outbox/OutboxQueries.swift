import Foundation
import GRDB

/// What operators see of the outbox (`portald outbox …`, `/api/v1/outbox`).
public struct OutboxEventView: Codable, Sendable {
    public struct Delivery: Codable, Sendable {
        public var endpoint: String
        public var status: String
        public var attempts: Int
        public var nextAttemptAt: Date?
        public var lastError: String?
        enum CodingKeys: String, CodingKey { case endpoint, status, attempts, nextAttemptAt = "next_attempt_at", lastError = "last_error" }
    }
    public struct Attempt: Codable, Sendable {
        public var endpoint: String
        public var attemptedAt: Date
        public var url: String
        public var statusCode: Int?
        public var latencyMs: Int
        public var error: String?
        enum CodingKeys: String, CodingKey {
            case endpoint, attemptedAt = "attempted_at", url, statusCode = "status_code", latencyMs = "latency_ms", error
        }
    }
    public var id: String
    public var event: String
    public var createdAt: Date
    public var deliveries: [Delivery]
    /// Only in `show`: the exact body sent, and the delivery log.
    public var envelope: JSONValue?
    public var attempts: [Attempt]?
    enum CodingKeys: String, CodingKey { case id, event, createdAt = "created_at", deliveries, envelope, attempts }
}

public struct OutboxStats: Codable, Sendable {
    public struct Endpoint: Codable, Sendable {
        public var id: String
        public var status: String
        public var pending: Int
        public var delivered: Int
        public var dead: Int
        public var oldestPendingAt: Date?
        enum CodingKeys: String, CodingKey { case id, status, pending, delivered, dead, oldestPendingAt = "oldest_pending_at" }
    }
    public var pending: Int
    public var delivered: Int
    public var dead: Int
    public var endpoints: [Endpoint]
}

/// Any JSON value, to show a stored envelope as JSON rather than as a string.
public indirect enum JSONValue: Codable, Sendable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value.rounded() == value && abs(value) < 9e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension Outbox {
    func list(status: DeliveryRecord.Status?, limit: Int, in db: Database) throws -> [OutboxEventView] {
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

    func show(id: String, in db: Database) throws -> OutboxEventView? {
        try OutboxEventRecord.filter(Column("id") == id).fetchOne(db).map { try view($0, in: db, detailed: true) }
    }

    /// Makes the event's deliveries (all, or one endpoint's) pending again, due now.
    func replay(id: String, endpoint: String? = nil, at date: Date, in db: Database) throws -> Int {
        guard let event = try OutboxEventRecord.filter(Column("id") == id).fetchOne(db) else { return -1 }
        var sql = "UPDATE delivery SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE event_sequence = ?"
        var arguments: StatementArguments = [date, date, event.sequence!]
        if let endpoint {
            sql += " AND endpoint_id = ?"
            arguments += [endpoint]
        }
        try db.execute(sql: sql, arguments: arguments)
        db.afterNextTransaction { [wakeUp] _ in wakeUp.signal() }
        return db.changesCount
    }

    /// Every dead delivery back to pending.
    func replayDead(at date: Date, in db: Database) throws -> Int {
        try db.execute(sql: "UPDATE delivery SET status = 'pending', attempts = 0, next_attempt_at = ?, updated_at = ? WHERE status = 'dead'",
                       arguments: [date, date])
        db.afterNextTransaction { [wakeUp] _ in wakeUp.signal() }
        return db.changesCount
    }

    func stats(in db: Database) throws -> OutboxStats {
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
            view.envelope = try? JSONDecoder().decode(JSONValue.self, from: record.body)
            view.attempts = try DeliveryAttemptRecord.filter(Column("event_sequence") == record.sequence!).order(Column("id")).fetchAll(db).map {
                .init(endpoint: $0.endpointID, attemptedAt: $0.attemptedAt, url: $0.url, statusCode: $0.statusCode, latencyMs: $0.latencyMs, error: $0.error)
            }
        }
        return view
    }
}
