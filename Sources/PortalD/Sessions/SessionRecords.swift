import Firewall
import Foundation
import GRDB

/// Sessions as rows: `session`, and one `session_address` row per address. The
/// only place that turns columns into typed values (MAC, addresses, subject).
enum SessionRecords {
    static func insert(_ session: Session, in db: Database) throws {
        // Cached statements: a login runs these, and compiling them each time cost more than running them.
        try db.cachedStatement(sql: """
            INSERT INTO session(id, mac, method, subject_type, subject_id, started_at, expires_at, ended_at, end_reason, bytes_up, bytes_down, tier)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [session.id, session.mac.description, session.method.rawValue, session.subject?.type, session.subject?.id,
                                     session.startedAt, session.expiresAt, session.endedAt, session.endReason?.rawValue,
                                     session.bytesUp, session.bytesDown, session.tier])
        for address in session.device.addresses {
            try insert(address, of: session.id, in: db)
        }
    }

    /// Binds one more address to a session.
    static func insert(_ address: IPAddress, of sessionID: String, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO session_address(session_id, family, address) VALUES (?, ?, ?)")
            .execute(arguments: [sessionID, address.family, address.description])
    }

    /// Writes what changes after login: the end and the byte counts.
    static func update(_ session: Session, in db: Database) throws {
        try db.execute(sql: """
            UPDATE session SET ended_at = ?, end_reason = ?, bytes_up = ?, bytes_down = ?, expires_at = ? WHERE id = ?
            """, arguments: [session.endedAt, session.endReason?.rawValue, session.bytesUp, session.bytesDown, session.expiresAt, session.id])
    }

    /// `active`'s filter for a login: the sessions holding the MAC (first argument) or
    /// the address (family, address). A union, not `mac = ? OR …`: SQLite answers an OR
    /// over two tables by scanning every active session, which made a login cost
    /// milliseconds at 10 000 guests; and live bindings only (`session_address_live`),
    /// since every session an address ever had keeps its binding.
    static let holdingMACOrAddress = """
        id IN (SELECT id FROM session WHERE mac = ? AND ended_at IS NULL
               UNION ALL SELECT session_id FROM session_address WHERE family = ? AND address = ? AND ended = 0)
        """

    /// Active sessions, oldest first; `filter` is SQL over the `session` table.
    /// Active sessions counted by login method and tier (`none`: no tier).
    static func countsByMethodAndTier(in db: Database) throws -> [(method: String, tier: String, count: Int)] {
        try Row.fetchAll(db, sql: """
            SELECT method, COALESCE(tier, 'none') AS tier, COUNT(*) AS n FROM session WHERE ended_at IS NULL GROUP BY 1, 2
            """).map { ($0["method"], $0["tier"], $0["n"]) }
    }

    static func active(_ filter: String = "1", _ arguments: StatementArguments = [], in db: Database) throws -> [Session] {
        try fetch(activeCondition(filter), arguments, in: db)
    }

    /// `active`'s WHERE clause (after `SELECT * FROM session WHERE`), for its query plan in tests.
    static func activeCondition(_ filter: String) -> String { "ended_at IS NULL AND (\(filter)) ORDER BY started_at, id" }

    /// The kernel elements of the sessions live at `at`, each with the whole seconds it
    /// has left (at least 1), in `active`'s order and each session's addresses in theirs.
    /// Read straight from the four columns the kernel needs: the reconciler and the
    /// install at start read every session, and building whole sessions cost them most
    /// of their time at 10 000 guests. (Rounded to the stored milliseconds before it is
    /// truncated: julianday's doubles would make 60 s read as 59.9999.)
    static func liveElements(at: Date, in db: Database) throws -> [AuthorizedDevice] {
        let rows = try Row.fetchCursor(db.cachedStatement(sql: """
            SELECT s.mac, a.address, s.tier, CAST(ROUND((julianday(s.expires_at) - julianday(?)) * 86400, 3) AS INTEGER), a.family
            FROM session s JOIN session_address a ON a.session_id = s.id
            WHERE s.ended_at IS NULL AND s.expires_at > ? ORDER BY s.started_at, s.id, a.rowid
            """), arguments: [at, at])
        var devices: [AuthorizedDevice] = []
        var last: (text: String, mac: MACAddress)?
        while let row = try rows.next() {
            let text: String = row[0]
            let mac: MACAddress
            if let last, last.text == text {
                mac = last.mac  // a session's second address
            } else {
                guard let parsed = MACAddress(text) else { throw StoreCorruption("a session has an unreadable mac \(text)") }
                mac = parsed
                last = (text, parsed)
            }
            let addressText: String = row[1]
            guard let address = IPAddress(addressText), address.family == row[4] as String else {
                throw StoreCorruption("session of \(text) has an unreadable address \(addressText)")
            }
            let seconds: Int = row[3]
            devices.append(AuthorizedDevice(mac: mac, address: address, timeout: .seconds(max(1, seconds)), tier: row[2]))
        }
        return devices
    }

    static func all(of subject: SessionSubject, in db: Database) throws -> [Session] {
        try fetch("subject_type = ? AND subject_id = ? ORDER BY started_at, id", [subject.type, subject.id], in: db)
    }

    static func one(id: String, in db: Database) throws -> Session? {
        try fetch("id = ?", [id], in: db).first
    }

    private static func fetch(_ condition: String, _ arguments: StatementArguments, in db: Database) throws -> [Session] {
        let rows = try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM session WHERE \(condition)"), arguments: arguments)
        guard !rows.isEmpty else { return [] }
        var addresses: [String: [(family: String, address: String)]] = [:]
        let ids = rows.map { $0["id"] as String }
        for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
            let placeholders = chunk.map { _ in "?" }.joined(separator: ",")
            for row in try Row.fetchAll(db, sql: "SELECT * FROM session_address WHERE session_id IN (\(placeholders)) ORDER BY rowid",
                                        arguments: StatementArguments(chunk)) {
                addresses[row["session_id"], default: []].append((row["family"], row["address"]))
            }
        }
        return try rows.map { row in
            let id: String = row["id"]
            guard let mac = MACAddress(row["mac"] as String), let method = Session.Method(rawValue: row["method"]) else {
                throw StoreCorruption("session \(id) has an unreadable mac or method")
            }
            let bound = try (addresses[id] ?? []).map { row in
                guard let address = IPAddress(row.address), address.family == row.family else {
                    throw StoreCorruption("session \(id) has an unreadable address \(row.address)")
                }
                return address
            }
            return Session(id: id, device: DeviceBinding(mac: mac, addresses: bound), method: method,
                           subject: SessionSubject(type: row["subject_type"], id: row["subject_id"]), tier: row["tier"],
                           startedAt: row["started_at"], expiresAt: row["expires_at"], endedAt: row["ended_at"],
                           endReason: (row["end_reason"] as String?).flatMap(Session.EndReason.init(rawValue:)),
                           bytesUp: row["bytes_up"], bytesDown: row["bytes_down"])
        }
    }
}

struct StoreCorruption: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
