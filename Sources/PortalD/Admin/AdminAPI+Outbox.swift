import Foundation
import GRDB

/// `/api/v1/outbox…` and `/api/v1/webhooks…`: what `portald outbox` and
/// `portald webhooks` use.
extension AdminAPI {
    func addOutboxRoutes(to router: inout Router) {
        router.get("/api/v1/outbox") { [self] request in
            authorized(request, AdminScope.outboxRead) {
                let status = try request.query["status"].map { text -> DeliveryRecord.Status in
                    guard let status = DeliveryRecord.Status(rawValue: text) else {
                        throw APIError(code: "invalid_status", message: "status must be pending, delivered or dead")
                    }
                    return status
                }
                let limit = try request.query["limit"].map { text -> Int in
                    guard let limit = Int(text), (1...1000).contains(limit) else {
                        throw APIError(code: "invalid_limit", message: "limit must be between 1 and 1000")
                    }
                    return limit
                } ?? 50
                let events = try sessions.store.pool.read { try outbox.list(status: status, limit: limit, in: $0) }
                return .json(["events": events])
            }
        }
        router.get("/api/v1/outbox/stats") { [self] request in
            authorized(request, AdminScope.outboxRead) { .json(try sessions.store.pool.read { try outbox.stats(in: $0) }) }
        }
        router.get("/api/v1/outbox/:id") { [self] request in
            authorized(request, AdminScope.outboxRead) {
                let id = request.parameters["id"] ?? ""
                guard let event = try sessions.store.pool.read({ try outbox.show(id: id, in: $0) }) else {
                    throw APIError(code: "not_found", message: "no event \(id)")
                }
                return .json(event)
            }
        }
        router.post("/api/v1/outbox/replay-dead") { [self] request in
            authorized(request, AdminScope.outboxWrite) {
                let count = try sessions.store.pool.write { try outbox.replayDead(at: sessions.now(), in: $0) }
                return .json(["replayed": count])
            }
        }
        router.post("/api/v1/outbox/:id/replay") { [self] request in
            authorized(request, AdminScope.outboxWrite) {
                let id = request.parameters["id"] ?? ""
                let count = try sessions.store.pool.write { try outbox.replay(id: id, at: sessions.now(), in: $0) }
                guard count >= 0 else { throw APIError(code: "not_found", message: "no event \(id)") }
                return .json(["replayed": count])
            }
        }
        router.post("/api/v1/webhooks/:endpoint/test") { [self] request in
            authorized(request, AdminScope.outboxWrite) {
                let endpoint = try configuredEndpoint(request.parameters["endpoint"] ?? "")
                guard endpoint.status != .inactive else {
                    throw APIError(code: "endpoint_inactive", message: "endpoint \(endpoint.id) is inactive; set status = \"active\" to test it")
                }
                let now = sessions.now()
                let id = try sessions.store.pool.write { db in
                    try outbox.record("webhook.test", data: ["message": "portald webhook test", "endpoint": endpoint.id], at: now, in: db, onlyEndpoint: endpoint.id)
                }
                return .json(["id": id ?? ""], status: 202)
            }
        }
        router.post("/api/v1/webhooks/:endpoint/resume") { [self] request in
            authorized(request, AdminScope.outboxWrite) {
                let endpoint = try configuredEndpoint(request.parameters["endpoint"] ?? "")
                let resumed = try sessions.store.pool.write { db -> Bool in
                    try db.execute(sql: "DELETE FROM endpoint_state WHERE endpoint_id = ?", arguments: [endpoint.id])
                    let changed = db.changesCount > 0
                    db.afterNextTransaction { [outbox] _ in outbox.wakeUp.signal() }
                    return changed
                }
                return .json(["endpoint": endpoint.id, "resumed": resumed ? "yes" : "was not suspended"])
            }
        }
    }

    private func configuredEndpoint(_ id: String) throws -> WebhooksConfig.Endpoint {
        guard let endpoint = webhooks.endpoints.first(where: { $0.id == id }) else {
            let known = webhooks.endpoints.map(\.id).joined(separator: ", ")
            throw APIError(code: "not_found", message: "no webhook endpoint \"\(id)\" (configured: \(known.isEmpty ? "none" : known))")
        }
        return endpoint
    }
}
