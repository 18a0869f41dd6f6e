import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// Copies of the database: `portald backup` while portald runs, `portald restore` while
/// it does not. Both go through SQLite's online backup API, which copies a consistent
/// snapshot of every committed transaction (the WAL's included) while writers go on.
public enum StoreBackup {
    /// Copies the database at `source` to `destination`: written beside it first, checked
    /// (`PRAGMA integrity_check`), made one self-contained file (journal mode DELETE, no
    /// WAL beside it), and renamed over `destination`, so a failure never leaves half a
    /// copy where the last good one was. Mode 0600: the database holds secrets. Returns
    /// the copy's size in bytes.
    @discardableResult
    public static func backup(database source: String, to destination: String) throws -> Int {
        guard FileManager.default.fileExists(atPath: source) else { throw StoreError("no database at \(source)") }
        guard access(source, R_OK) == 0 else { throw StoreError("cannot read \(source): \(String(cString: strerror(errno))) (run as root or as the portald user)") }
        sweepPartials(of: destination)
        let partial = destination + ".partial-\(getpid())"
        defer { removeDatabaseFiles(partial) }
        var readOnly = Configuration()
        readOnly.readonly = true
        readOnly.busyMode = .timeout(5)
        let reader = try DatabaseQueue(path: source, configuration: readOnly)
        let fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError("cannot create \(partial): \(String(cString: strerror(errno)))") }
        close(fd)
        do {
            let copy = try DatabaseQueue(path: partial)
            try reader.backup(to: copy)
            try copy.writeWithoutTransaction { db in
                // The backup copies page 1's WAL flag: switched back, the copy needs no -wal beside it.
                let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")
                guard mode == "delete" else { throw StoreError("the copy stayed in journal mode \(mode ?? "unknown")") }
                try integrityCheck(db, what: "the copy")
            }
            try copy.close()
        }
        try reader.close()
        guard rename(partial, destination) == 0 else {
            throw StoreError("cannot move the copy to \(destination): \(String(cString: strerror(errno)))")
        }
        syncDirectory(of: destination)
        return (try? FileManager.default.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
    }

    /// What `check` found in a copy.
    public struct Contents: Sendable, Equatable {
        /// The migrations it has been through, by identifier.
        public var migrations: [String]
        /// Rows per table, for the few tables people ask about.
        public var rows: [String: Int]
    }

    /// Whether `file` is a sound portald database this version can run: `integrity_check`
    /// passes, it has portald's migrations table, and none this version does not know (a
    /// copy from a newer portald). Opened read-only: nothing is written to it.
    public static func check(_ file: String, knownMigrations: Set<String>, counting tables: [String] = []) throws -> Contents {
        guard FileManager.default.fileExists(atPath: file) else { throw StoreError("\(file): no such file") }
        var readOnly = Configuration()
        readOnly.readonly = true
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: file, configuration: readOnly)
        } catch {
            throw StoreError("\(file) is not an SQLite database: \(error)")
        }
        defer { try? queue.close() }
        return try queue.read { db in
            do {
                try integrityCheck(db, what: file)
            } catch let error as DatabaseError {
                throw StoreError("\(file) is not a readable SQLite database: \(error.message ?? "\(error)")")
            }
            guard try db.tableExists("grdb_migrations") else { throw StoreError("\(file) is not a portald database (it has no migrations table)") }
            let migrations = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            guard migrations.contains(where: knownMigrations.contains) else {
                throw StoreError("\(file) is not a portald database (none of portald's migrations)")
            }
            if let unknown = migrations.first(where: { !knownMigrations.contains($0) }) {
                throw StoreError("\(file) was written by a newer portald (its migration \"\(unknown)\" is unknown to this one)")
            }
            var rows: [String: Int] = [:]
            for table in tables where try db.tableExists(table) {
                rows[table] = try Int.fetchOne(db, sql: "SELECT count(*) FROM \"\(table)\"") ?? 0
            }
            return Contents(migrations: migrations, rows: rows)
        }
    }

    /// Replaces the database at `path` with `file` (checked first, by the caller, with
    /// `check`). The database it replaces is kept as it was, not opened (it may be the
    /// damaged one): its file is linked to the returned path and its WAL moved beside
    /// that. The new file gets the old one's owner (portald's user, when root restores)
    /// and mode 0600. The caller makes sure portald is not running.
    public static func restore(_ file: String, over path: String, at now: Date = Date()) throws -> String? {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var owner = stat()
        let hasOld = stat(path, &owner) == 0
        if !hasOld, stat(directory, &owner) != 0 { throw StoreError("no directory \(directory) for the database") }
        // First the copy, whole and checked: until the last rename, the old database is untouched.
        let incoming = path + ".restoring-\(getpid())"
        defer { removeDatabaseFiles(incoming) }
        try backup(database: file, to: incoming)
        guard chown(incoming, owner.st_uid, owner.st_gid) == 0 || geteuid() != 0 else {
            throw StoreError("cannot give \(incoming) the database's owner: \(String(cString: strerror(errno)))")
        }
        var kept: String?
        if hasOld {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "UTC")
            formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
            let aside = path + ".before-restore-" + formatter.string(from: now)
            guard link(path, aside) == 0 else { throw StoreError("cannot keep the database as \(aside): \(String(cString: strerror(errno)))") }
            // Its WAL goes with it (the new file must not replay it); the -shm is only an index.
            if FileManager.default.fileExists(atPath: path + "-wal"), rename(path + "-wal", aside + "-wal") != 0 {
                throw StoreError("cannot move \(path)-wal aside: \(String(cString: strerror(errno)))")
            }
            unlink(path + "-shm")
            kept = aside
        }
        guard rename(incoming, path) == 0 else {
            throw StoreError("cannot move the restored database to \(path): \(String(cString: strerror(errno)))")
        }
        syncDirectory(of: path)
        return kept
    }

    /// Removes copies left by runs that died (`FILE.partial-<pid>`, the pid gone): each is a
    /// whole database, secrets included.
    private static func sweepPartials(of destination: String) {
        let url = URL(fileURLWithPath: destination)
        let prefix = url.lastPathComponent + ".partial-"
        let directory = url.deletingLastPathComponent().path
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count).prefix { $0.isNumber }
            guard let pid = pid_t(rest), kill(pid, 0) != 0, errno == ESRCH else { continue }
            removeDatabaseFiles(directory + "/" + prefix + rest)
        }
    }

    /// Makes a rename in `path`'s directory durable.
    private static func syncDirectory(of path: String) {
        let fd = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    private static func integrityCheck(_ db: Database, what: String) throws {
        let result = try String.fetchAll(db, sql: "PRAGMA integrity_check")
        guard result == ["ok"] else {
            throw StoreError("\(what) fails SQLite's integrity check: \(result.prefix(3).joined(separator: "; "))")
        }
    }

    private static func removeDatabaseFiles(_ path: String) {
        for file in [path, path + "-wal", path + "-shm", path + "-journal"] { unlink(file) }
    }
}
