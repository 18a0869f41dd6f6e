import Crypto
import Foundation
import GRDB
import Store

/// Webhook endpoints made, changed and deleted through the admin API (the way Lucca's
/// `webhook-endpoints` resource works). Their secrets must sign every delivery, so they
/// are kept as they are, in the database that already holds portald's other keys (0640).
/// Endpoints of the config file are listed beside them and cannot be changed here.
public final class ManagedEndpoints: Sendable {
    let store: Store
    let outbox: Outbox
    let now: @Sendable () -> Date

    public init(store: Store, outbox: Outbox, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.outbox = outbox
        self.now = now
    }

    public enum Failure: Error, Equatable {
        case notFound(String)
        /// Defined in the config file.
        case readOnly(String)
        /// `If-Match` names another revision: someone changed it since.
        case revisionMismatch(current: Int)
        /// A rotation's old secret still signs: a second rotation would drop it early.
        case rotationInProgress(until: Date)
        /// A stored endpoint has the id of one in the config file.
        case idTaken(String)
    }

    /// Adds the stored endpoints to the outbox's registry (at start).
    public func load() throws {
        let rows = try store.pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM webhook_endpoint ORDER BY created_at, id") }
        for row in rows {
            let endpoint = try Self.endpoint(row)
            guard outbox.registry.endpoint(endpoint.id) == nil else { throw Failure.idTaken(endpoint.id) }
            outbox.registry.put(endpoint)
        }
    }

    /// Makes an endpoint with a new `whsec_` secret, returned this once.
    public func create(url: URL, topics: [String], status: WebhookEndpoint.Status, contentType: WebhookEndpoint.ContentType,
                       apiVersion: String, ordering: WebhookEndpoint.Ordering) throws -> (WebhookEndpoint, secret: String) {
        let secret = try WebhookSecret("whsec_" + Data(Crypto.randomBytes(32)).base64EncodedString())
        let date = now()
        let endpoint = WebhookEndpoint(id: "we_" + Crypto.randomBytes(8).hexString,
                                       url: url, secrets: [secret], topics: topics, status: status, ordering: ordering, contentType: contentType,
                                       apiVersion: apiVersion, managedBy: .api, revision: 1, createdAt: date, updatedAt: date)
        try store.pool.write { db in
            try db.execute(sql: """
                INSERT INTO webhook_endpoint(id, url, topics, status, content_type, api_version, ordering, secret, previous_secret,
                    previous_secret_until, revision, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, 1, ?, ?)
                """, arguments: [endpoint.id, url.absoluteString, Self.topicsText(topics), status.rawValue, contentType.rawValue, apiVersion,
                                 ordering.rawValue, secret.text, date, date])
            db.afterNextTransaction { _ in self.published(endpoint) }
        }
        return (endpoint, secret.text)
    }

    /// Changes what is given, if `revision` is still current (or nil: `If-Match: *`).
    public func update(id: String, revision: Int?, url: URL?, topics: [String]?, status: WebhookEndpoint.Status?) throws -> WebhookEndpoint {
        try change(id: id, revision: revision) { endpoint in
            if let url { endpoint.url = url }
            if let topics { endpoint.topics = topics }
            if let status { endpoint.status = status }
        }
    }

    /// A new secret, returned this once; the old one keeps signing (beside it) for `grace`.
    public func rotateSecret(id: String, grace: TimeInterval) throws -> (WebhookEndpoint, secret: String) {
        let secret = try WebhookSecret("whsec_" + Data(Crypto.randomBytes(32)).base64EncodedString())
        let until = now().addingTimeInterval(grace)
        let endpoint = try change(id: id, revision: nil) { endpoint in
            if let running = endpoint.secrets.dropFirst().first?.validUntil, running > now() { throw Failure.rotationInProgress(until: running) }
            endpoint.secrets = [secret, try WebhookSecret(endpoint.secrets[0].text, validUntil: until)]
        }
        return (endpoint, secret.text)
    }

    /// Deletes the endpoint; its undelivered events are marked dead (kept in the log).
    public func delete(id: String) throws {
        try store.pool.write { db in
            _ = try Self.current(id, outbox: outbox, in: db)
            try db.execute(sql: "DELETE FROM webhook_endpoint WHERE id = ?", arguments: [id])
            try db.execute(sql: "UPDATE delivery SET status = 'dead', last_error = 'endpoint deleted', updated_at = ? WHERE endpoint_id = ? AND status = 'pending'",
                           arguments: [now(), id])
            db.afterNextTransaction { _ in self.published(removing: id) }
        }
    }

    private func change(id: String, revision: Int?, _ edit: (inout WebhookEndpoint) throws -> Void) throws -> WebhookEndpoint {
        try store.pool.write { db in
            var endpoint = try Self.current(id, outbox: outbox, in: db)
            if let revision, revision != endpoint.revision { throw Failure.revisionMismatch(current: endpoint.revision) }
            let url = endpoint.url
            try edit(&endpoint)
            if endpoint.url != url {
                // A new address is tried at once, not kept suspended by the old one's 410.
                try db.execute(sql: "DELETE FROM endpoint_state WHERE endpoint_id = ?", arguments: [id])
            }
            endpoint.revision += 1
            endpoint.updatedAt = now()
            let previous = endpoint.secrets.dropFirst().first
            try db.execute(sql: """
                UPDATE webhook_endpoint SET url = ?, topics = ?, status = ?, secret = ?, previous_secret = ?, previous_secret_until = ?,
                    revision = ?, updated_at = ? WHERE id = ?
                """, arguments: [endpoint.url.absoluteString, Self.topicsText(endpoint.topics), endpoint.status.rawValue, endpoint.secrets[0].text,
                                 previous?.text, previous?.validUntil, endpoint.revision, endpoint.updatedAt, id])
            let changed = endpoint
            db.afterNextTransaction { _ in self.published(changed) }
            return endpoint
        }
    }

    /// After a commit: the registry (the dispatcher starts, changes or ends the loop) and
    /// the loops' wake-up (a deleted or paused endpoint stops at once, not at the next poll).
    private func published(_ endpoint: WebhookEndpoint? = nil, removing id: String? = nil) {
        if let endpoint { outbox.registry.put(endpoint) }
        if let id { outbox.registry.remove(id) }
        outbox.wakeUp.signal()
    }

    /// The stored endpoint `id`, or why it cannot be changed.
    static func current(_ id: String, outbox: Outbox, in db: Database) throws -> WebhookEndpoint {
        if let row = try Row.fetchOne(db, sql: "SELECT * FROM webhook_endpoint WHERE id = ?", arguments: [id]) { return try endpoint(row) }
        if outbox.registry.endpoint(id)?.managedBy == .config { throw Failure.readOnly(id) }
        throw Failure.notFound(id)
    }

    static func topicsText(_ topics: [String]) -> String { String(decoding: JSON.encode(topics), as: UTF8.self) }

    static func endpoint(_ row: Row) throws -> WebhookEndpoint {
        let id: String = row["id"]
        guard let url = URL(string: row["url"]),
              let topics = try? JSONDecoder().decode([String].self, from: Data((row["topics"] as String).utf8)),
              let status = WebhookEndpoint.Status(rawValue: row["status"]), let contentType = WebhookEndpoint.ContentType(rawValue: row["content_type"]),
              let ordering = WebhookEndpoint.Ordering(rawValue: row["ordering"]) else {
            throw DatabaseError(message: "webhook endpoint \(id) has an unreadable row")
        }
        var secrets = [try WebhookSecret(row["secret"] as String)]
        if let previous = row["previous_secret"] as String? {
            secrets.append(try WebhookSecret(previous, validUntil: row["previous_secret_until"]))
        }
        return WebhookEndpoint(id: id, url: url, secrets: secrets, topics: topics, status: status, ordering: ordering, contentType: contentType,
                               apiVersion: row["api_version"], managedBy: .api, revision: row["revision"], createdAt: row["created_at"],
                               updatedAt: row["updated_at"])
    }

    static let migration = StoreMigration(version: 9, "webhook endpoints") { db in
        try db.execute(sql: """
            CREATE TABLE webhook_endpoint (
                id TEXT PRIMARY KEY,
                url TEXT NOT NULL,
                topics TEXT NOT NULL,
                status TEXT NOT NULL,
                content_type TEXT NOT NULL,
                api_version TEXT NOT NULL,
                ordering TEXT NOT NULL,
                secret TEXT NOT NULL,
                previous_secret TEXT,
                previous_secret_until DATETIME,
                revision INTEGER NOT NULL,
                created_at DATETIME NOT NULL,
                updated_at DATETIME NOT NULL
            )
            """)
    }
}
