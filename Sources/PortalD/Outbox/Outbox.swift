import Foundation
import GRDB

/// The transactional outbox: a state change and its event are written in one
/// SQLite transaction, so neither can exist without the other. The dispatcher
/// delivers what is written here; nothing is sent from inside a transaction.
public final class Outbox: Sendable {
    let siteID: String
    let endpoints: [WebhooksConfig.Endpoint]
    let wakeUp = WakeUp()

    public init(siteID: String, endpoints: [WebhooksConfig.Endpoint]) {
        self.siteID = siteID
        self.endpoints = endpoints
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
    func record<Payload: Encodable>(_ event: String, data: Payload, at date: Date, in db: Database,
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
        db.afterNextTransaction { [wakeUp] _ in wakeUp.signal() }
        return id
    }
}
