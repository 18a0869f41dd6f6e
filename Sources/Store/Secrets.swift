import Crypto
import Foundation
import GRDB

/// Named random secrets (the form-token key, …), made on first use and kept across restarts.
extension Store {
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

/// The store's own table. Version 0 so it exists before any module's steps; `IF NOT
/// EXISTS` because databases made before the modules split got it from "v1".
enum StoreSecrets: StoreSchema {
    static let migrations = [
        StoreMigration(version: 0, "secrets") { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS secret (name TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL)")
        },
    ]
}
