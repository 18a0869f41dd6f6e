import GRDB
import Store

/// The check-in domain's tables (versions interleave with the other modules').
public enum ArrivalsSchema: StoreSchema {
    public static let migrations = [
        StoreMigration(version: 6, "reservations") { db in
            // A deleted reservation stays as a tombstone (`deleted_at`) with its version, so a
            // delayed older update cannot bring it back. Guests are a JSON list: the PMS sends
            // them whole with every version. `search` holds the folded text `q` looks in.
            try db.execute(sql: """
                CREATE TABLE reservation (
                    id TEXT PRIMARY KEY,
                    reference TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled', 'in_house', 'checked_out', 'no_show')),
                    arrival TEXT NOT NULL,
                    departure TEXT NOT NULL,
                    room TEXT,
                    adults INTEGER NOT NULL,
                    children INTEGER NOT NULL,
                    babies INTEGER NOT NULL,
                    language TEXT,
                    guests TEXT NOT NULL,
                    version INTEGER,
                    source TEXT NOT NULL,
                    search TEXT NOT NULL,
                    checkin_token_hash BLOB UNIQUE,
                    created_at DATETIME NOT NULL,
                    updated_at DATETIME NOT NULL,
                    deleted_at DATETIME
                );
                CREATE INDEX reservation_arrival ON reservation(arrival, id) WHERE deleted_at IS NULL;
                CREATE INDEX reservation_reference ON reservation(reference) WHERE deleted_at IS NULL;
                """)
        },
        StoreMigration(version: 8, "inbound receipts") { db in
            try db.execute(sql: """
                CREATE TABLE inbound_receipt (
                    source_id TEXT NOT NULL,
                    key TEXT NOT NULL,
                    received_at DATETIME NOT NULL,
                    PRIMARY KEY (source_id, key)
                );
                CREATE INDEX inbound_receipt_age ON inbound_receipt(source_id, received_at);
                """)
        },
        StoreMigration(version: 10, "reservation lookup by reference") { db in
            // A guest without a link types their booking code: matched on its letters and digits
            // alone, without case or accents ("bkg a1b2c3" finds "BKG-A1B2C3"; ReservationLookup.key).
            try db.execute(sql: """
                ALTER TABLE reservation ADD COLUMN reference_key TEXT NOT NULL DEFAULT '';
                CREATE INDEX reservation_reference_key ON reservation(reference_key) WHERE deleted_at IS NULL;
                """)
            for row in try Row.fetchAll(db, sql: "SELECT id, reference FROM reservation") {
                try db.execute(sql: "UPDATE reservation SET reference_key = ? WHERE id = ?",
                               arguments: [ReservationLookup.key(row["reference"]), row["id"] as String])
            }
        },
        StoreMigration(version: 11, "online check-in") { db in
            // A guest's progress through check-in, saved at every step so going back (or
            // coming back tomorrow) finds it. Position 0 is the primary guest; companions
            // follow. Details are a JSON object of registration field names: which fields
            // there are depends on the site's registration profile. A terms signature is the
            // legal record of what the guest agreed to: the text's version and the SHA-256
            // of exactly what was shown, with who, when and from where.
            try db.execute(sql: """
                CREATE TABLE checkin (
                    reservation_id TEXT PRIMARY KEY,
                    confirmed_at DATETIME,
                    arrived_at DATETIME,
                    arrival_key TEXT,
                    arrived_via TEXT,
                    updated_at DATETIME NOT NULL
                );
                CREATE TABLE checkin_guest (
                    reservation_id TEXT NOT NULL,
                    position INTEGER NOT NULL CHECK (position >= 0),
                    details TEXT NOT NULL,
                    updated_at DATETIME NOT NULL,
                    PRIMARY KEY (reservation_id, position)
                );
                CREATE TABLE terms_signature (
                    reservation_id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    signed_at DATETIME NOT NULL,
                    client_address TEXT NOT NULL,
                    user_agent TEXT NOT NULL,
                    language TEXT NOT NULL,
                    terms_version TEXT NOT NULL,
                    terms_sha256 TEXT NOT NULL,
                    marketing INTEGER NOT NULL
                );
                """)
        },
        StoreMigration(version: 13, "companion invites") { db in
            // One invite per companion's place. Claiming gives the companion a token of their own
            // (`own_hash`); the invite's hash stays so a second claim is told it was taken.
            try db.execute(sql: """
                CREATE TABLE companion_invite (
                    reservation_id TEXT NOT NULL,
                    position INTEGER NOT NULL CHECK (position >= 1),
                    token_hash BLOB NOT NULL UNIQUE,
                    own_hash BLOB UNIQUE,
                    created_at DATETIME NOT NULL,
                    claimed_at DATETIME,
                    PRIMARY KEY (reservation_id, position)
                );
                """)
        },
    ]
}
