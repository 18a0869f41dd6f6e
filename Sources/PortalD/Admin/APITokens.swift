import Crypto
import Foundation
import GRDB
import Store
import Synchronization

/// API tokens made by `portald tokens create` or `POST /api/v1/tokens` (like Sanctum's,
/// with abilities called scopes). The secret is shown once and stored as its SHA-256;
/// the daemon keeps the active ones in memory, keyed by that hash, so authenticating a
/// request reads no table. Every change goes through this object (the CLI uses the
/// API), so the memory and the table cannot drift apart.
final class APITokens: Sendable {
    let store: Store
    let now: @Sendable () -> Date
    private let byHash: Mutex<[Data: StoredToken]>

    struct StoredToken: Sendable, Equatable {
        var name: String
        var scopes: Set<String>
        var createdAt: Date
        var expiresAt: Date?
        /// Requests a minute; nil: `[admin] rate_limit_per_minute`.
        var rateLimit: Int?
    }

    static let prefix = "pdt_"

    init(store: Store, now: @escaping @Sendable () -> Date = { Date() }) throws {
        self.store = store
        self.now = now
        let rows = try store.pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM api_token") }
        byHash = Mutex(Dictionary(uniqueKeysWithValues: rows.map { row in ((row["hash"] as Data), Self.token(row)) }))
    }

    private static func token(_ row: Row) -> StoredToken {
        StoredToken(name: row["name"], scopes: Set((row["scopes"] as String).split(separator: " ").map(String.init)),
                    createdAt: row["created_at"], expiresAt: row["expires_at"], rateLimit: row["rate_limit"])
    }

    /// The token whose secret was presented, expired or not (the caller tells them apart).
    func token(presented: [UInt8]) -> StoredToken? {
        let hash = Data(Crypto.sha256(presented))
        return byHash.withLock { $0[hash] }
    }

    var all: [StoredToken] { byHash.withLock { Array($0.values) }.sorted { $0.name < $1.name } }

    /// Makes a token; returns it with its secret, which nothing can show again.
    /// The name must be free (the caller checks config tokens' names).
    func create(name: String, scopes: Set<String>, expiresAt: Date?, rateLimit: Int?) throws -> (StoredToken, secret: String) {
        let secret = Self.prefix + Crypto.randomBytes(32).base64URLString
        let hash = Data(Crypto.sha256(Array(secret.utf8)))
        let token = StoredToken(name: name, scopes: scopes, createdAt: now(), expiresAt: expiresAt, rateLimit: rateLimit)
        // Memory changes when the write commits (writes are serial, so a revoke cannot slip
        // between), and only if it commits.
        try store.pool.write { db in
            try db.execute(sql: "INSERT INTO api_token(name, hash, scopes, created_at, expires_at, rate_limit) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [name, hash, scopes.sorted().joined(separator: " "), token.createdAt, expiresAt, rateLimit])
            db.afterNextTransaction { _ in self.byHash.withLock { $0[hash] = token } }
        }
        return (token, secret)
    }

    /// Deletes the token: it stops working with the next request. False if there is none.
    func revoke(name: String) throws -> Bool {
        try store.pool.write { db in
            guard let hash = try Data.fetchOne(db, sql: "SELECT hash FROM api_token WHERE name = ?", arguments: [name]) else { return false }
            try db.execute(sql: "DELETE FROM api_token WHERE name = ?", arguments: [name])
            db.afterNextTransaction { _ in self.byHash.withLock { _ = $0.removeValue(forKey: hash) } }
            return true
        }
    }

    /// Generated tokens have this shape: 256 random bits after the prefix.
    static func isGenerated(_ secret: [UInt8]) -> Bool { LocalToken.isGenerated(secret, prefix: prefix) }
}

/// The admin API's own tables.
enum TokensSchema: StoreSchema {
    static let migrations = [
        StoreMigration(version: 7, "api tokens") { db in
            try db.execute(sql: """
                CREATE TABLE api_token (
                    name TEXT PRIMARY KEY,
                    hash BLOB NOT NULL UNIQUE,
                    scopes TEXT NOT NULL,
                    created_at DATETIME NOT NULL,
                    expires_at DATETIME,
                    rate_limit INTEGER
                )
                """)
        },
        StoreMigration(version: 12, "idempotency keys") { db in
            // `response_status` is NULL while the first request with the key is being answered.
            try db.execute(sql: """
                CREATE TABLE idempotency_key (
                    scope TEXT NOT NULL,
                    key TEXT NOT NULL,
                    fingerprint BLOB NOT NULL,
                    response_status INTEGER,
                    response_body BLOB,
                    created_at DATETIME NOT NULL,
                    PRIMARY KEY (scope, key)
                );
                CREATE INDEX idempotency_key_age ON idempotency_key(created_at);
                """)
        },
    ]
}
