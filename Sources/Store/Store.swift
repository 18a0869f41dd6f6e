import Foundation
import GRDB
import Synchronization

/// portald's SQLite database. Each module owns its tables and contributes their
/// migrations (`StoreSchema`); the store runs them once each, in version order.
///
/// GRDB over the system libsqlite3: a `DatabasePool` is WAL mode (guests' logins
/// write while the CLI, the admin API and the dispatcher read), and every
/// migration runs in its own transaction.
public final class Store: Sendable {
    public let pool: DatabasePool

    /// How far a commit is durable when `init` returns from it (SQLite's `synchronous`).
    public enum Durability: String, Sendable, CaseIterable {
        /// Every commit is fsynced before it returns: it survives a power loss.
        case full
        /// Commits survive a crash of portald, not a power loss: the last ones before
        /// it may be lost (WAL is fsynced only at checkpoints).
        case normal
    }

    /// Opens (creating if needed) the database at `path` and migrates it with `schemas`.
    public init(path: String, schemas: [any StoreSchema.Type], durability: Durability = .full) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // Checkpoints are `checkpoint()`'s job, off the write path; this is only a backstop
            // for a process that never calls it (SQLite's default would be 1 000 pages).
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.backstopPages)")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        groupCommit = GroupCommit(pool: pool)
        // Only the writer's setting counts, and it is set here, not in `prepareDatabase`:
        // GRDB switches the writer to NORMAL after that hook when it turns WAL on.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(durability.rawValue.uppercased())") }
        try Self.restrictPermissions(path: path)
        try Self.migrator(schemas: Self.ownSchemas + schemas).migrate(pool)
        var checkpointing = Configuration()
        checkpointing.busyMode = .timeout(5)
        checkpointing.label = "checkpoint"
        checkpointer = try DatabaseQueue(path: path, configuration: checkpointing)
    }

    static let backstopPages = 16_384

    /// The store's own tables, beside the modules'.
    static var ownSchemas: [any StoreSchema.Type] { [StoreSecrets.self, StoreProbeSchema.self, StoreWALSchema.self] }

    /// Every migration a store with `schemas` has run, by identifier: what a copy may hold
    /// for this version to restore it (`StoreBackup.check`).
    public static func migrationIdentifiers(schemas: [any StoreSchema.Type]) -> Set<String> {
        Set((ownSchemas + schemas).flatMap { $0.migrations.map(\.identifier) })
    }

    private let groupCommit: GroupCommit

    /// A write that may share its transaction (and its fsync) with writes made at the same
    /// moment, each in its own savepoint: for many small independent writes from concurrent
    /// callers (reservation upserts). Blocks like `pool.write`; returns once committed.
    public func groupWrite<T>(_ work: @escaping (Database) throws -> T) throws -> T {
        try groupCommit.write(work)
    }

    /// The database holds secrets (the form-token key): at most 0640, also for files
    /// an earlier version or another umask created more open.
    static func restrictPermissions(path: String) throws {
        for file in [path, path + "-wal", path + "-shm"] {
            guard let mode = (try? FileManager.default.attributesOfItem(atPath: file))?[.posixPermissions] as? Int, mode & 0o137 != 0 else { continue }
            try FileManager.default.setAttributes([.posixPermissions: mode & 0o640], ofItemAtPath: file)
        }
    }

    /// Its own connection: a passive checkpoint takes no write lock, so it runs beside
    /// a login's transaction instead of inside one.
    private let checkpointer: DatabaseQueue

    /// Copies what the WAL holds back into the database file, without waiting for or
    /// blocking writers and readers (a passive checkpoint). Called periodically, so
    /// that no commit has to run a checkpoint, which was a login's slowest moment.
    ///
    /// Once everything is copied, the next commit starts the WAL over: it rewrites the
    /// WAL's header and, under FULL, fsyncs it before its own frames, two fsyncs instead
    /// of one. That commit is made here (a one-row table, on the pool's writer, so a login
    /// queues behind it rather than sleeping in SQLite's busy handler), so that a guest's
    /// login never pays for it. With nothing committed since the last call there is
    /// nothing to do, and nothing is written.
    public func checkpoint() throws {
        let startOver = try checkpointer.writeWithoutTransaction { db -> Bool in
            // Changes when another connection commits; this connection's own writes leave it.
            let version = try Int.fetchOne(db, sql: "PRAGMA data_version")
            guard version != lastSeenVersion.withLock({ $0 }) else { return false }
            let (frames, copied) = try db.checkpoint(.passive)
            guard copied == frames else { return false }  // a reader holds some back: again next time
            if frames == 0 { lastSeenVersion.withLock { $0 = version } }
            return frames > 0
        }
        guard startOver else { return }
        try pool.write { db in
            try db.execute(sql: "INSERT INTO store_wal_restart(id, restarted_at) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET restarted_at = excluded.restarted_at",
                           arguments: [Date().timeIntervalSince1970])
        }
        // That commit is another connection's to the checkpointer: seen, or the next call would copy it and write again.
        let after = try checkpointer.read { db in try Int.fetchOne(db, sql: "PRAGMA data_version") }
        lastSeenVersion.withLock { $0 = after }
    }

    /// `PRAGMA data_version` as the checkpointer last saw it.
    private let lastSeenVersion = Mutex<Int?>(nil)

    /// All migrations of `schemas`, ordered by version. Two migrations with one version
    /// are a programming error, reported before anything is touched.
    static func migrator(schemas: [any StoreSchema.Type]) throws -> DatabaseMigrator {
        let migrations = schemas.flatMap { $0.migrations }.sorted { $0.version < $1.version }
        for (a, b) in zip(migrations, migrations.dropFirst()) where a.version == b.version {
            throw StoreError("migrations \"\(a.identifier)\" and \"\(b.identifier)\" share version \(a.version)")
        }
        var migrator = DatabaseMigrator()
        for migration in migrations {
            migrator.registerMigration(migration.identifier, migrate: migration.migrate)
        }
        return migrator
    }
}

/// A module's tables, as a list of migrations.
public protocol StoreSchema {
    static var migrations: [StoreMigration] { get }
}

/// One schema step. The version orders steps across modules (the database keeps
/// the identifier `v<version>: <name>`, so neither may change once released).
public struct StoreMigration: Sendable {
    public let version: Int
    public let name: String
    public let migrate: @Sendable (Database) throws -> Void

    public init(version: Int, _ name: String, migrate: @escaping @Sendable (Database) throws -> Void) {
        self.version = version
        self.name = name
        self.migrate = migrate
    }

    public var identifier: String { "v\(version): \(name)" }
}

public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A Codable record whose columns are the snake_case of its properties.
public protocol SnakeCaseRecord: Codable, FetchableRecord, EncodableRecord, Sendable {}

extension SnakeCaseRecord {
    public static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    public static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }
}
