import Foundation
import GRDB
import Store

/// The transactional outbox: a state change and its event are written in one
/// SQLite transaction, so neither can exist without the other. The dispatcher
/// delivers what is written here; nothing is sent from inside a transaction.
public final class Outbox: Sendable {
    public let siteID: String
    /// Where events go; changes through the API take effect at once.
    public let registry: EndpointRegistry
    public var endpoints: [WebhookEndpoint] { registry.all }
    /// Signalled after a commit that made something deliverable.
    let wakeUp = WakeUp()

    /// `endpoints`: the config file's (`ManagedEndpoints.load` adds the API's).
    public init(siteID: String, endpoints: [WebhookEndpoint]) {
        self.siteID = siteID
        self.registry = EndpointRegistry(endpoints)
    }

    /// The envelope of DESIGN.md: `{id, event, created_at, site_id, data}`.
    struct Envelope<Payload: Encodable>: Encodable {
        let id: String
        let event: String
        let createdAt: Date
        let siteID: String
        let data: Payload
        enum CodingKeys: String, CodingKey { case id, event, createdAt = "created_at", siteID = "site_id", data }
    }

    /// Records `event` for every endpoint that subscribes to it and is not inactive.
    /// Call inside the transaction that makes the change. Returns the event id, or
    /// nil when no endpoint wants it (then nothing is kept).
    @discardableResult
    public func record<Payload: Encodable>(_ event: String, data: Payload, at date: Date, in db: Database,
                                           onlyEndpoint: String? = nil) throws -> String? {
        let targets = endpoints.filter { endpoint in
            guard endpoint.status != .inactive else { return false }
            if let onlyEndpoint { return endpoint.id == onlyEndpoint }
            return TopicPattern.matches(any: endpoint.topics, event)
        }
        guard !targets.isEmpty else { return nil }
        let id = UUID().uuidString.lowercased()
        let body = JSON.encode(Envelope(id: id, event: event, createdAt: date, siteID: siteID, data: data))
        var record = OutboxEventRecord(sequence: nil, id: id, event: event, createdAt: date, body: body)
        try record.insert(db)
        for endpoint in targets {
            try DeliveryRecord(eventSequence: record.sequence!, endpointID: endpoint.id, status: .pending, attempts: 0,
                               nextAttemptAt: date, lastError: nil, updatedAt: date).insert(db)
        }
        wakeAfterCommit(db)
        return id
    }

    /// Wakes the dispatcher once `db`'s transaction commits.
    func wakeAfterCommit(_ db: Database) {
        db.afterNextTransaction { [wakeUp] _ in wakeUp.signal() }
    }

    /// Lifts a 410 suspension; returns whether the endpoint was suspended.
    public func resume(endpoint id: String, in db: Database) throws -> Bool {
        try db.execute(sql: "DELETE FROM endpoint_state WHERE endpoint_id = ?", arguments: [id])
        let changed = db.changesCount > 0
        wakeAfterCommit(db)
        return changed
    }
}

extension Outbox {
    /// Deletes the events named `prefix…` whose `data.reservation_id` is `reservationID` and
    /// that no endpoint still waits for (delivered, or dead): a guest's erasure reaches the
    /// copies of their data kept for replay. Events still pending stay, to reach upstream.
    @discardableResult
    public static func forgetFinished(prefix: String, reservationID: String, in db: Database) throws -> Int {
        try forgetFinished(prefix: prefix, matching: "= ?", arguments: [reservationID], in: db)
    }

    /// The same for every reservation id not in `query` (a subquery of ids that are kept).
    @discardableResult
    public static func forgetFinished(prefix: String, reservationIDsNotIn query: String, in db: Database) throws -> Int {
        try forgetFinished(prefix: prefix, matching: "NOT IN (\(query))", arguments: [], in: db)
    }

    private static func forgetFinished(prefix: String, matching condition: String, arguments: StatementArguments, in db: Database) throws -> Int {
        // Deliveries and attempts go with their event (ON DELETE CASCADE).
        try db.execute(sql: """
            DELETE FROM outbox_event WHERE event LIKE ? || '%' ESCAPE '\\'
            AND json_extract(CAST(body AS TEXT), '$.data.reservation_id') \(condition)
            AND NOT EXISTS (SELECT 1 FROM delivery d WHERE d.event_sequence = outbox_event.sequence AND d.status = 'pending')
            """, arguments: [prefix] + arguments)
        return db.changesCount
    }
}
