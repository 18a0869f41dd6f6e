import Foundation
import Lab
import Testing

/// `portald backup` while guests log in, and `portald restore` of what it wrote.
@Suite("backup and restore", .serialized)
struct BackupTests {
    /// Authorizes `count` devices from number `first` on, one request after the other, over the admin API.
    static let logins = """
        import http.client, json, sys
        port, token, first, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        connection = http.client.HTTPConnection("127.0.0.1", port)
        for n in range(first, first + count):
            connection.request("POST", f"/api/v1/clients/02:00:00:00:{n >> 8:02x}:{n & 0xff:02x}/auth",
                               body=json.dumps({"ipv4": f"10.0.{n >> 8}.{n & 0xff}"}),
                               headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 201, answer.status
        """

    /// `SELECT` answers from a database file, through Python's sqlite3 (an independent reader).
    func query(_ file: String, _ sql: String) throws -> String {
        try Shell.run(["python3", "-c", "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])", file, sql])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("a backup during a burst of logins holds every session committed before it began and passes integrity_check; restore refuses while portald runs, checks the file, keeps what it replaces")
    func backupAndRestore() throws {
        let portald = try Portald.loopback()
        try portald.start()
        defer { try? portald.stop() }
        let token = try String(contentsOf: portald.directory.appendingPathComponent("admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let database = portald.directory.appendingPathComponent("portald.db").path
        let copy = portald.directory.appendingPathComponent("backups/nightly.db").path
        try FileManager.default.createDirectory(atPath: portald.directory.appendingPathComponent("backups").path, withIntermediateDirectories: true)

        // 100 sessions committed, then 1 500 more logging in while the backup runs.
        try Shell.run(["python3", "-c", Self.logins, "\(portald.adminPort)", token, "0", "100"])
        let burst = Process()
        burst.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        burst.arguments = ["python3", "-c", Self.logins, "\(portald.adminPort)", token, "100", "1500"]
        try burst.run()
        Thread.sleep(forTimeInterval: 0.2)
        let backup = try portald.cli(["backup", copy])
        burst.waitUntilExit()
        #expect(burst.terminationStatus == 0, "the logins beside the backup all succeeded")
        #expect(backup.stdout.contains("backed up \(database) to \(copy)"), "\(backup.stdout)")
        #expect(try query(copy, "PRAGMA integrity_check") == "ok")
        let copied = try #require(Int(try query(copy, "SELECT count(*) FROM session")))
        print("backup during the burst: \(copied) of 1 600 sessions in the copy")
        #expect(copied >= 100 && copied < 1600, "taken while the burst went on: \(copied) of 1 600")
        #expect(try query(copy, "SELECT count(*) FROM session WHERE mac <= '02:00:00:00:00:63'") == "100", "every session committed before the backup began")
        // One snapshot: the logins came one after another, so the copy holds the first `copied`, no gaps.
        let last = String(format: "02:00:00:00:%02x:%02x", (copied - 1) >> 8, (copied - 1) & 0xff)
        #expect(try query(copy, "SELECT count(*) FROM session WHERE mac <= '\(last)'") == "\(copied)")
        #expect(try query(copy, "PRAGMA journal_mode") == "delete" && !FileManager.default.fileExists(atPath: copy + "-wal"), "one self-contained file")
        #expect((try FileManager.default.attributesOfItem(atPath: copy)[.posixPermissions] as? Int) == 0o600)

        let nowhere = try portald.cli(["backup", portald.directory.appendingPathComponent("missing/x.db").path], check: false)
        #expect(nowhere.status == 1 && nowhere.stderr.contains("backup: cannot create"), "\(nowhere.stderr)")

        // Not while portald runs.
        let running = try portald.cli(["restore", copy], check: false)
        #expect(running.status == 1 && running.stderr.contains("portald is running with this database: stop it first"), "\(running.stderr)")
        try portald.stop()

        // A file that is not a sound portald database is refused, and nothing changes.
        let junk = portald.directory.appendingPathComponent("junk.db").path
        try Data(repeating: 0x2a, count: 8192).write(to: URL(fileURLWithPath: junk))
        let foreign = portald.directory.appendingPathComponent("foreign.db").path
        try Shell.run(["python3", "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute('CREATE TABLE t(x)'); c.commit()", foreign])
        // A copy from a newer portald: one migration this one does not know.
        let newer = portald.directory.appendingPathComponent("newer.db").path
        try FileManager.default.copyItem(atPath: copy, toPath: newer)
        try Shell.run(["python3", "-c", "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(\"INSERT INTO grdb_migrations VALUES ('v99: from the future')\"); c.commit()", newer])
        for (file, reason) in [(junk, "is not"), (foreign, "is not a portald database"), (portald.directory.appendingPathComponent("none.db").path, "no such file"),
                               (newer, "was written by a newer portald (its migration \"v99: from the future\" is unknown to this one)")] {
            let refused = try portald.cli(["restore", file], check: false)
            #expect(refused.status == 1 && refused.stderr.contains("restore: ") && refused.stderr.contains(reason), "\(refused.stderr)")
        }
        #expect(try query(database, "SELECT count(*) FROM session") == "1600")

        // Restored: what it replaced is kept whole, and portald starts with the copy's sessions.
        let restored = try portald.cli(["restore", copy])
        #expect(restored.stdout.contains("restored \(copy) to \(database) (\(copied) session(s)"), "\(restored.stdout)")
        let kept = try #require(restored.stdout.split(separator: "\n").last.flatMap { $0.components(separatedBy: "kept at ").last })
        #expect(try query(kept, "SELECT count(*) FROM session") == "1600", "nothing that was stored is lost")
        #expect(try query(database, "SELECT count(*) FROM session") == "\(copied)")
        try portald.start()
        let clients = try JSONSerialization.jsonObject(with: Data(try portald.cli(["clients", "--json"]).stdout.utf8)) as? [String: Any]
        #expect((clients?["clients"] as? [Any])?.count == copied)
    }
}
