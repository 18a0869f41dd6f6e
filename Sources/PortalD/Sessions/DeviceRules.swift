import Firewall
import Foundation
import GRDB
import Store

/// A device IT set apart from the portal: trusted (never captured: staff devices,
/// printers, smart TVs) or blocked (never let through; it sees a "blocked" page).
/// Kept in SQLite, so it holds across restarts, and put in the firewall's sets.
public struct DeviceRule: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable, Codable {
        case trusted, blocked
    }

    public var mac: MACAddress
    public var kind: Kind
    /// IT's words: "front desk printer".
    public var note: String?
    public var createdAt: Date

    /// Notes are for people: a line, not a document.
    public static let noteLimit = 200

    /// At most `noteLimit` code points, none of them a control character or a line or
    /// paragraph separator (what `noteLimit` and the OpenAPI pattern say).
    public static func isValidNote(_ note: String) -> Bool {
        note.unicodeScalars.count <= noteLimit
            && !note.unicodeScalars.contains { $0.value < 0x20 || (0x7f...0x9f).contains($0.value) || $0 == "\u{2028}" || $0 == "\u{2029}" }
    }
}

enum DeviceRulesSchema: StoreSchema {
    static let migrations = [
        StoreMigration(version: 15, "device rules") { db in
            try db.execute(sql: """
                CREATE TABLE device_rule (
                    mac TEXT PRIMARY KEY,
                    kind TEXT NOT NULL CHECK (kind IN ('trusted', 'blocked')),
                    note TEXT,
                    created_at DATETIME NOT NULL
                )
                """)
        },
    ]
}

extension SessionService {
    /// Every rule, by MAC.
    public func deviceRules() throws -> [DeviceRule] {
        try store.pool.read { db in try Self.rules(in: db) }
    }

    /// Gives the firewall the stored rules: at start, before the table is installed,
    /// so the first table already holds them.
    public func loadDeviceRules() throws {
        let rules = try deviceRules()
        do {
            try firewall.setDeviceRules(Self.firewallRules(rules))
        } catch {
            // A table left by an earlier run refused them; the install that follows puts them in.
            logger.warning("the previous table refused the device rules; the new table will hold them", metadata: ["error": "\(error)"])
        }
    }

    /// Whether `mac` may not go online (the firewall's copy: no database read).
    public func isBlocked(_ mac: MACAddress) -> Bool {
        firewall.deviceRules.blocked.contains(mac)
    }

    /// Whether any device is blocked: when none is, a page need not look the device up.
    public var anyBlocked: Bool { !firewall.deviceRules.blocked.isEmpty }

    /// Trusts or blocks `mac` (replacing a rule it had). Blocking ends the device's
    /// session (reason `blocked`), which is returned.
    /// `previous`: the rule the device had, if another.
    @discardableResult
    public func setRule(_ kind: DeviceRule.Kind, for mac: MACAddress, note: String?) throws -> (rule: DeviceRule, ended: Session?, previous: DeviceRule.Kind?) {
        if let note, !DeviceRule.isValidNote(note) {
            throw SessionError(kind: .invalid, description: "the note must be one line of at most \(DeviceRule.noteLimit) characters, without control characters")
        }
        var rule = DeviceRule(mac: mac, kind: kind, note: note?.isEmpty == true ? nil : note, createdAt: now())
        var previous: DeviceRule.Kind?
        try changeRules { db in
            previous = try Self.rules(in: db).first { $0.mac == mac }.map(\.kind).flatMap { $0 == kind ? nil : $0 }
            // The same rule again (a new note) keeps when it began.
            try db.execute(sql: """
                INSERT INTO device_rule(mac, kind, note, created_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(mac) DO UPDATE SET note = excluded.note,
                    created_at = CASE WHEN device_rule.kind = excluded.kind THEN device_rule.created_at ELSE excluded.created_at END,
                    kind = excluded.kind
                """, arguments: [mac.description, kind.rawValue, rule.note, rule.createdAt])
            rule = try Self.rules(in: db).first { $0.mac == mac } ?? rule
        }
        logger.notice("device rule set", metadata: ["mac": "\(mac)", "rule": "\(kind.rawValue)"])
        // A blocked device's session ends; so does a trusted one's, which it no longer needs
        // (and whose address counters would otherwise count it uncaptured).
        do {
            return (rule, try deauthorize(mac: mac, reason: kind == .blocked ? .blocked : .deauthorized), previous)
        } catch let error as SessionError where error.kind == .notFound {
            return (rule, nil, previous)
        }
    }

    /// Removes `mac`'s rule; the device is an ordinary guest again. `only`: remove it only
    /// if it is that rule (`untrust` must not unblock), else `mismatch`.
    @discardableResult
    public func removeRule(for mac: MACAddress, only kind: DeviceRule.Kind? = nil) throws -> DeviceRule {
        var removed: DeviceRule?
        try changeRules { db in
            removed = try Self.rules(in: db).first { $0.mac == mac }
            guard let found = removed else { throw SessionError(kind: .notFound, description: "\(mac) is neither trusted nor blocked") }
            if let kind, found.kind != kind {
                throw SessionError(kind: .mismatch, description: "\(mac) is \(found.kind.rawValue), not \(kind.rawValue)")
            }
            try db.execute(sql: "DELETE FROM device_rule WHERE mac = ?", arguments: [mac.description])
        }
        logger.notice("device rule removed", metadata: ["mac": "\(mac)", "rule": "\(removed!.kind.rawValue)"])
        return removed!
    }

    /// Writes, then hands the firewall the whole new set of rules. If the kernel
    /// refuses, the rules are stored and kept by the firewall; the reconciler puts
    /// them in at its next run.
    private func changeRules(_ write: @escaping (Database) throws -> Void) throws {
        try changes.withLock { state in
            let rules = try store.pool.write { db in
                try write(db)
                return try Self.rules(in: db)
            }
            do {
                try firewall.setDeviceRules(Self.firewallRules(rules))
            } catch {
                logger.error("the firewall refused the device rules; reconciling soon", metadata: ["error": "\(error)"])
                state.needsReconcile = true
            }
        }
    }

    static func firewallRules(_ rules: [DeviceRule]) -> DeviceRules {
        DeviceRules(trusted: Set(rules.filter { $0.kind == .trusted }.map(\.mac)), blocked: Set(rules.filter { $0.kind == .blocked }.map(\.mac)))
    }

    static func rules(in db: Database) throws -> [DeviceRule] {
        try Row.fetchAll(db, sql: "SELECT * FROM device_rule ORDER BY mac").map { row in
            guard let mac = MACAddress(row["mac"] as String), let kind = DeviceRule.Kind(rawValue: row["kind"]) else {
                throw StoreCorruption("device_rule has an unreadable row")
            }
            return DeviceRule(mac: mac, kind: kind, note: row["note"], createdAt: row["created_at"])
        }
    }
}
