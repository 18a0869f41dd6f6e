import Foundation
import GRDB

/// portald's SQLite database: sessions now, the outbox and arrivals later.
///
/// GRDB over the system libsqlite3: a `DatabasePool` is WAL mode (guests' logins
/// write while the CLI and the admin API read), and `DatabaseMigrator` runs each
/// schema step once, in order, in a transaction.
public final class Store: Sendable {
    public let pool: DatabasePool

    public init(path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")  // durable in WAL mode across process crashes
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: sessions and secrets") { db in
            try db.create(table: "session") { t in
                t.primaryKey("id", .text)
                t.column("mac", .text).notNull()
                t.column("ipv4", .text).notNull()
                t.column("method", .text).notNull()
                t.column("started_at", .datetime).notNull()
                t.column("expires_at", .datetime).notNull()
                t.column("ended_at", .datetime)
                t.column("end_reason", .text)
            }
            // One active session per device.
            try db.execute(sql: "CREATE UNIQUE INDEX session_active_mac ON session(mac) WHERE ended_at IS NULL")
            try db.execute(sql: "CREATE INDEX session_active_expiry ON session(expires_at) WHERE ended_at IS NULL")
            try db.create(table: "secret") { t in
                t.primaryKey("name", .text)
                t.column("value", .blob).notNull()
            }
        }
        registerOutboxMigration(&migrator)
        migrator.registerMigration("v3: session traffic") { db in
            // While a session is active: bytes counted by tables since replaced (restarts);
            // once ended: the session's totals.
            try db.alter(table: "session") { t in
                t.add(column: "bytes_up", .integer).notNull().defaults(to: 0)
                t.add(column: "bytes_down", .integer).notNull().defaults(to: 0)
            }
        }
        return migrator
    }

    /// A named random secret, made on first use and kept across restarts.
    public func secret(named name: String, length: Int = 32) throws -> [UInt8] {
        try pool.write { db in
            if let value = try Data.fetchOne(db, sql: "SELECT value FROM secret WHERE name = ?", arguments: [name]) {
                return Array(value)
            }
            let value = Crypto.randomBytes(length)
            try db.execute(sql: "INSERT INTO secret(name, value) VALUES (?, ?)", arguments: [name, Data(value)])
            return value
        }
    }
}

/// A Codable record whose columns are the snake_case of its properties.
public protocol SnakeCaseRecord: Codable, FetchableRecord, EncodableRecord, Sendable {}

extension SnakeCaseRecord {
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}
