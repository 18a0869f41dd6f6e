import GRDB
import Store

/// The sessions' tables. Versions 1 and 3 keep the identifiers they were released
/// with (version 2 is the outbox's).
enum SessionsSchema: StoreSchema {
    static let migrations = [
        StoreMigration(version: 1, "sessions and secrets") { db in
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
        },
        StoreMigration(version: 3, "session traffic") { db in
            // While a session is active: bytes counted by tables since replaced (restarts);
            // once ended: the session's totals.
            try db.alter(table: "session") { t in
                t.add(column: "bytes_up", .integer).notNull().defaults(to: 0)
                t.add(column: "bytes_down", .integer).notNull().defaults(to: 0)
            }
        },
        StoreMigration(version: 4, "session subject and device addresses") { db in
            try db.execute(sql: """
                ALTER TABLE session ADD COLUMN subject_type TEXT CHECK (subject_type IN ('reservation', 'code'));
                ALTER TABLE session ADD COLUMN subject_id TEXT;
                CREATE INDEX session_active_subject ON session(subject_type, subject_id) WHERE ended_at IS NULL;
                CREATE TABLE session_address (
                    session_id TEXT NOT NULL REFERENCES session(id) ON DELETE CASCADE,
                    family TEXT NOT NULL CHECK (family IN ('ipv4', 'ipv6')),
                    address TEXT NOT NULL,
                    PRIMARY KEY (session_id, address)
                );
                CREATE INDEX session_address_address ON session_address(address);
                INSERT INTO session_address(session_id, family, address) SELECT id, 'ipv4', ipv4 FROM session;
                ALTER TABLE session DROP COLUMN ipv4;
                """)
        },
        StoreMigration(version: 16, "session tier") { db in
            try db.execute(sql: "ALTER TABLE session ADD COLUMN tier TEXT")
        },
        StoreMigration(version: 17, "live address bindings") { db in
            // A login looks up the live sessions bound to its address. Ended sessions keep
            // their bindings (the history), so an address reused for months gathered hundreds
            // of rows that each login read: `ended` marks them, set by triggers whenever a
            // session ends (or a binding is added to an ended one), and the login's lookup reads a partial index of the live ones only.
            try db.execute(sql: """
                ALTER TABLE session_address ADD COLUMN ended INTEGER NOT NULL DEFAULT 0 CHECK (ended IN (0, 1));
                UPDATE session_address SET ended = 1 WHERE session_id IN (SELECT id FROM session WHERE ended_at IS NOT NULL);
                DROP INDEX session_address_address;
                CREATE INDEX session_address_live ON session_address(address) WHERE ended = 0;
                CREATE TRIGGER session_address_ended AFTER UPDATE OF ended_at ON session
                    WHEN NEW.ended_at IS NOT NULL AND OLD.ended_at IS NULL
                    BEGIN UPDATE session_address SET ended = 1 WHERE session_id = NEW.id; END;
                CREATE TRIGGER session_address_of_ended AFTER INSERT ON session_address
                    WHEN (SELECT ended_at FROM session WHERE id = NEW.session_id) IS NOT NULL
                    BEGIN UPDATE session_address SET ended = 1 WHERE rowid = NEW.rowid; END;
                """)
        },
    ]
}
