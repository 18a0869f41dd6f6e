import Foundation
import GRDB
import HTTPServer
import Outbox
import Store

/// What the outbox and webhook resources need.
protocol OutboxRepository: Sendable {
    func list(status: DeliveryStatus?, limit: Int) throws -> [OutboxEventView]
    func show(id: String) throws -> OutboxEventView?
    func stats() throws -> OutboxStats
    /// Deliveries made pending again, or nil when there is no such event.
    func replay(id: String) throws -> Int?
    func replayDead() throws -> Int
    var endpoints: [WebhookEndpoint] { get }
    /// Records a `webhook.test` for one endpoint; returns the event id.
    func recordTest(endpoint: WebhookEndpoint) throws -> String?
    func resume(endpoint: WebhookEndpoint) throws -> Bool
    /// The endpoints made through the API.
    var managed: ManagedEndpoints { get }
}

/// `/api/v1/outbox…` and `/api/v1/webhooks…`: what `portald outbox` and `portald webhooks` use.
struct OutboxController {
    let repository: any OutboxRepository

    func addRoutes(to api: DocumentedRoutes) {
        let read = api.scoped(AdminScope.outboxRead)
        read.get("/outbox", APIOperation(summary: "Recent events and their deliveries, newest first", query: [
            ("status", ["type": "string", "enum": ["pending", "delivered", "dead"]], "only events with a delivery in this state"),
            ("limit", ["type": "integer", "minimum": 1, "maximum": 1000], "how many events (default 50)"),
        ], responses: [200: ("events", "OutboxEventList"), 400: ("bad status or limit", "Error")])) { request, _ in
            let status = try request.query["status"].map { text -> DeliveryStatus in
                guard let status = DeliveryStatus(rawValue: text) else {
                    throw HTTPError.badRequest("invalid_status", "status must be pending, delivered or dead")
                }
                return status
            }
            let limit = try request.query["limit"].map { text -> Int in
                guard let limit = Int(text), (1...1000).contains(limit) else {
                    throw HTTPError.badRequest("invalid_limit", "limit must be between 1 and 1000")
                }
                return limit
            } ?? 50
            return .json(["events": try repository.list(status: status, limit: limit)])
        }
        read.get("/outbox/stats", APIOperation(summary: "Pending, delivered and dead deliveries per endpoint",
                                               responses: [200: ("counts", "OutboxStats")])) { _, _ in
            .json(try repository.stats())
        }
        read.get("/outbox/{id}", APIOperation(summary: "One event: its envelope, deliveries and every attempt", responses: [
            200: ("event", "OutboxEvent"), 404: ("no such event", "Error"),
        ])) { _, context in
            let id = try context.parameters.require("id")
            guard let event = try repository.show(id: id) else { throw HTTPError.notFound("no event \(id)") }
            return .json(event)
        }

        let write = api.scoped(AdminScope.outboxWrite)
        write.post("/outbox/replay-dead", APIOperation(summary: "Make every dead delivery pending again",
                                                       responses: [200: ("how many", "Replayed")])) { _, _ in
            .json(["replayed": try repository.replayDead()])
        }
        write.post("/outbox/{id}/replay", APIOperation(summary: "Send an event again, with the same id", responses: [
            200: ("how many deliveries", "Replayed"), 404: ("no such event", "Error"),
        ])) { _, context in
            let id = try context.parameters.require("id")
            guard let count = try repository.replay(id: id) else { throw HTTPError.notFound("no event \(id)") }
            return .json(["replayed": count])
        }
        write.post("/webhooks/{endpoint}/test", APIOperation(summary: "Queue a signed webhook.test for one endpoint", responses: [
            202: ("queued", "TestEvent"), 404: ("no such endpoint", "Error"), 409: ("the endpoint is inactive", "Error"),
        ])) { _, context in
            let endpoint = try configuredEndpoint(context)
            guard endpoint.status != .inactive else {
                throw HTTPError(409, code: "endpoint_inactive", message: "endpoint \(endpoint.id) is inactive; set status = \"active\" to test it")
            }
            return .json(["id": try repository.recordTest(endpoint: endpoint) ?? ""], status: 202)
        }
        write.post("/webhooks/{endpoint}/resume", APIOperation(summary: "Resume an endpoint suspended by 410 Gone", responses: [
            200: ("resumed, or was not suspended", "Resumed"), 404: ("no such endpoint", "Error"),
        ])) { _, context in
            let endpoint = try configuredEndpoint(context)
            let resumed = try repository.resume(endpoint: endpoint)
            return .json(["endpoint": endpoint.id, "resumed": resumed ? "yes" : "was not suspended"])
        }
    }

    private func configuredEndpoint(_ context: AdminContext) throws -> WebhookEndpoint {
        let id = try context.parameters.require("endpoint")
        guard let endpoint = repository.endpoints.first(where: { $0.id == id }) else {
            let known = repository.endpoints.map(\.id).joined(separator: ", ")
            throw HTTPError.notFound("no webhook endpoint \"\(id)\" (configured: \(known.isEmpty ? "none" : known))")
        }
        return endpoint
    }
}

/// The outbox in SQLite, as the outbox resource sees it.
struct StoreOutboxRepository: OutboxRepository {
    let store: Store
    let outbox: Outbox
    let now: @Sendable () -> Date

    var endpoints: [WebhookEndpoint] { outbox.endpoints }
    var managed: ManagedEndpoints { ManagedEndpoints(store: store, outbox: outbox, now: now) }
    func list(status: DeliveryStatus?, limit: Int) throws -> [OutboxEventView] { try store.pool.read { try outbox.list(status: status, limit: limit, in: $0) } }
    func show(id: String) throws -> OutboxEventView? { try store.pool.read { try outbox.show(id: id, in: $0) } }
    func stats() throws -> OutboxStats { try store.pool.read { try outbox.stats(in: $0) } }
    func replay(id: String) throws -> Int? {
        let count = try store.pool.write { try outbox.replay(id: id, at: now(), in: $0) }
        return count >= 0 ? count : nil
    }
    func replayDead() throws -> Int { try store.pool.write { try outbox.replayDead(at: now(), in: $0) } }
    func recordTest(endpoint: WebhookEndpoint) throws -> String? {
        let at = now()
        return try store.pool.write { db in
            try outbox.record("webhook.test", data: ["message": "portald webhook test", "endpoint": endpoint.id], at: at, in: db, onlyEndpoint: endpoint.id)
        }
    }
    func resume(endpoint: WebhookEndpoint) throws -> Bool { try store.pool.write { try outbox.resume(endpoint: endpoint.id, in: $0) } }
}
