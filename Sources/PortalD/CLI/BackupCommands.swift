import ArgumentParser
import Foundation
import Store

/// The tables a backup's summary counts: what IT checks a copy by.
private let countedTables = ["session", "reservation", "outbox_event"]

private func summary(_ rows: [String: Int]) -> String {
    [("session", "session(s)"), ("reservation", "reservation(s)"), ("outbox_event", "event(s)")]
        .compactMap { table, noun in rows[table].map { "\($0) \(noun)" } }.joined(separator: ", ")
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a consistent copy of the database, while portald runs.",
        discussion: "SQLite's online backup: every committed session, reservation and event, with guests logging in meanwhile. The copy is checked and then renamed over FILE, so a failed run leaves the last good copy in place.")
    @OptionGroup var options: ConfigOptions
    @Argument(help: "Where to write the copy (mode 0600: it holds secrets).") var file: String

    func run() async throws {
        try await reporting {
            let config = try options.load()
            do {
                let bytes = try StoreBackup.backup(database: config.store.path, to: file)
                let contents = try StoreBackup.check(file, knownMigrations: Store.migrationIdentifiers(schemas: Daemon.schemas), counting: countedTables)
                print("backed up \(config.store.path) to \(file) (\(bytes) bytes: \(summary(contents.rows)))")
            } catch let error as StoreError {
                throw CLIError("backup: \(error)")
            } catch {
                throw CLIError("backup of \(config.store.path) to \(file) failed: \(error)")
            }
        }
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace the database with a backup; portald must be stopped.",
        discussion: "The file is checked first (SQLite's integrity check, a portald database, no newer version's). The database it replaces is kept beside it as it was, named .before-restore-<time>.")
    @OptionGroup var options: ConfigOptions
    @Argument(help: "A copy written by portald backup.") var file: String

    func run() async throws {
        try await reporting {
            let config = try options.load()
            let directory = URL(fileURLWithPath: config.store.path).deletingLastPathComponent().path
            // Held until the restore is done: a portald starting meanwhile waits for nothing and fails on the lock.
            let lock: InstanceLock
            do {
                lock = try InstanceLock(directory: directory)
            } catch let error as CLIError where error.description.hasPrefix("another portald") {
                throw CLIError("portald is running with this database: stop it first (systemctl stop portald). \(error.description)")
            }
            defer { withExtendedLifetime(lock) {} }
            do {
                let contents = try StoreBackup.check(file, knownMigrations: Store.migrationIdentifiers(schemas: Daemon.schemas), counting: countedTables)
                let kept = try StoreBackup.restore(file, over: config.store.path)
                print("restored \(file) to \(config.store.path) (\(summary(contents.rows)))")
                if let kept { print("the database it replaced is kept at \(kept)") }
            } catch let error as StoreError {
                throw CLIError("restore: \(error)")
            } catch {
                throw CLIError("restore of \(file) to \(config.store.path) failed: \(error)")
            }
        }
    }
}
