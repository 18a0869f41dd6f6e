import Foundation
import GRDB

/// The health check's proof that the database takes writes and gives them back.
extension Store {
    /// Writes a fresh value into a one-row table, commits, and reads it back from another
    /// connection of the pool. Throws what failed: a full disk, a read-only file system, a
    /// lock held too long. The value is random, so a concurrent probe is not mistaken for one.
    public func probe() throws {
        let stamp = Double.random(in: 0..<1)
        try pool.write { db in
            try db.execute(sql: "INSERT INTO store_probe(id, checked_at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET checked_at = excluded.checked_at",
                           arguments: [stamp])
        }
        let read: Double? = try pool.read { db in try Double.fetchOne(db, sql: "SELECT checked_at FROM store_probe WHERE id = 1") }
        guard read == stamp else { throw StoreError("the probe row read back \(read.map { "\($0)" } ?? "nothing"), not what was written") }
    }
}

/// The probe's table, the store's own (beside `secret`).
enum StoreProbeSchema: StoreSchema {
    static let migrations = [
        StoreMigration(version: 5, "store probe") { db in
            try db.execute(sql: "CREATE TABLE store_probe (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at REAL NOT NULL)")
        },
    ]
}

/// The one-row table the checkpointer writes to start the WAL over (`Store.checkpoint()`).
enum StoreWALSchema: StoreSchema {
    static let migrations = [
        StoreMigration(version: 14, "WAL restart") { db in
            try db.execute(sql: "CREATE TABLE store_wal_restart (id INTEGER PRIMARY KEY CHECK (id = 1), restarted_at REAL NOT NULL)")
        },
    ]
}
