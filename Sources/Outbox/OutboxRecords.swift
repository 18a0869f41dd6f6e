import Foundation
import GRDB
import Store

/// An event as stored: the envelope's bytes are fixed when the event is recorded,
/// so every attempt (and every replay) sends exactly the same body.
struct OutboxEventRecord: SnakeCaseRecord, MutablePersistableRecord {
    var sequence: Int64?
    var id: String
    var event: String
    var createdAt: Date
    var body: Data

    static let databaseTableName = "outbox_event"

    mutating func didInsert(_ inserted: InsertionSuccess) { sequence = inserted.rowID }
}

/// Where one event stands with one endpoint.
public enum DeliveryStatus: String, Codable, Sendable, CaseIterable {
    case pending, delivered, dead
}

/// One event's way to one endpoint.
struct DeliveryRecord: SnakeCaseRecord, PersistableRecord {
    typealias Status = DeliveryStatus

    var eventSequence: Int64
    var endpointID: String
    var status: Status
    var attempts: Int
    var nextAttemptAt: Date
    var lastError: String?
    var updatedAt: Date

    static let databaseTableName = "delivery"
    enum CodingKeys: String, CodingKey {
        case eventSequence, endpointID = "endpointId", status, attempts, nextAttemptAt, lastError, updatedAt
    }
}

/// The delivery log: one row per HTTP attempt, purged after `log_retention_days`.
struct DeliveryAttemptRecord: SnakeCaseRecord, MutablePersistableRecord {
    var id: Int64?
    var eventSequence: Int64
    var endpointID: String
    var attemptedAt: Date
    var url: String
    var statusCode: Int?
    var latencyMs: Int
    var error: String?

    static let databaseTableName = "delivery_attempt"
    enum CodingKeys: String, CodingKey {
        case id, eventSequence, endpointID = "endpointId", attemptedAt, url, statusCode, latencyMs, error
    }
}

/// The outbox's tables.
public enum OutboxSchema: StoreSchema {
    public static let migrations = [
        StoreMigration(version: 2, "outbox") { db in
            try db.execute(sql: """
                CREATE TABLE outbox_event (
                    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    event TEXT NOT NULL,
                    created_at DATETIME NOT NULL,
                    body BLOB NOT NULL
                );
                CREATE TABLE delivery (
                    event_sequence INTEGER NOT NULL REFERENCES outbox_event(sequence) ON DELETE CASCADE,
                    endpoint_id TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at DATETIME NOT NULL,
                    last_error TEXT,
                    updated_at DATETIME NOT NULL,
                    PRIMARY KEY (endpoint_id, event_sequence)
                );
                CREATE INDEX delivery_pending ON delivery(endpoint_id, event_sequence) WHERE status = 'pending';
                CREATE INDEX delivery_event ON delivery(event_sequence);
                CREATE TABLE delivery_attempt (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    event_sequence INTEGER NOT NULL REFERENCES outbox_event(sequence) ON DELETE CASCADE,
                    endpoint_id TEXT NOT NULL,
                    attempted_at DATETIME NOT NULL,
                    url TEXT NOT NULL,
                    status_code INTEGER,
                    latency_ms INTEGER NOT NULL,
                    error TEXT
                );
                CREATE INDEX delivery_attempt_event ON delivery_attempt(event_sequence);
                CREATE INDEX delivery_attempt_time ON delivery_attempt(attempted_at);
                CREATE TABLE endpoint_state (
                    endpoint_id TEXT PRIMARY KEY,
                    suspended_at DATETIME,
                    suspended_reason TEXT
                );
                """)
        },
        ManagedEndpoints.migration,
    ]
}
