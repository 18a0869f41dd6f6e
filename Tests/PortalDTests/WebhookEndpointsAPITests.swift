import Arrivals
import Firewall
import Foundation
import GRDB
import Logging
import Outbox
import Store
import Testing
@testable import HTTPServer
@testable import PortalD

@Suite("admin API: webhook endpoints managed by API")
struct WebhookEndpointsAPITests {
    let api: AdminAPI
    let store: Store
    let outbox: Outbox

    init() throws {
        let (store, _) = try temporaryStore()
        let outbox = Outbox(siteID: "h", endpoints: [try WebhookEndpoint(
            id: "crm", url: URL(string: "http://192.0.2.99/hook")!,
            secrets: [WebhookSecret("whsec_" + Data(repeating: 7, count: 24).base64EncodedString())], topics: ["*"])])
        api = try makeAdminAPI(store: store, credentials: [AdminCredential(name: "ops", secret: Array("ops-token".utf8),
                                                                             scopes: [AdminScope.webhooksRead, AdminScope.webhooksWrite])],
                               outbox: outbox)
        self.store = store
        self.outbox = outbox
    }

    struct Answer {
        var status: Int
        var json: [String: Any]
        var headers: HTTPHeaders
    }

    func call(_ method: HTTPMethod, _ path: String, _ body: String = "", ifMatch: String? = nil) -> Answer {
        var headers = HTTPHeaders()
        headers.add("Authorization", "Bearer ops-token")
        if let ifMatch { headers.add("If-Match", ifMatch) }
        let response = api.answer(HTTPRequest(method: method, target: "/api/v1" + path, headers: headers, body: Array(body.utf8)))
        return Answer(status: response.status, json: (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:],
                      headers: response.headers)
    }

    @Test("create returns the secret once; list and GET never; config endpoints are listed read-only")
    func createAndList() throws {
        let created = call(.post, "/webhook-endpoints", #"{"url": "https://hooks.example.com/in", "topics": ["wifi.*"], "contentType": "cloudEvents"}"#)
        #expect(created.status == 201 && created.headers["etag"] == "\"1\"", "\(created.json)")
        let secret = try #require(created.json["secret"] as? String)
        let id = try #require(created.json["id"] as? String)
        #expect(secret.hasPrefix("whsec_") && (try? WebhookSecret(secret)) != nil && id.hasPrefix("we_"))
        #expect(created.json["contentType"] as? String == "cloudEvents" && created.json["managed_by"] as? String == "api")
        let listed = try #require(call(.get, "/webhook-endpoints").json["webhook_endpoints"] as? [[String: Any]])
        #expect(listed.map { $0["id"] as? String } == ["crm", id])
        #expect(listed.map { $0["managed_by"] as? String } == ["config", "api"])
        #expect(listed.allSatisfy { $0["secret"] == nil })
        let one = call(.get, "/webhook-endpoints/\(id)")
        #expect(one.status == 200 && one.json["secret"] == nil && one.headers["etag"] == "\"1\"")
        // The new endpoint receives events at once, and survives a restart.
        let sequence = try store.pool.write { db -> String? in try outbox.record("wifi.session.started", data: ["x": 1], at: Date(), in: db) }
        let endpoints = try store.pool.read { db in try String.fetchAll(db, sql: "SELECT endpoint_id FROM delivery ORDER BY endpoint_id") }
        #expect(sequence != nil && endpoints == ["crm", id])
        let restarted = Outbox(siteID: "h", endpoints: [])
        try ManagedEndpoints(store: store, outbox: restarted).load()
        #expect(restarted.endpoints.map(\.id) == [id] && restarted.endpoints.first?.secrets.first?.text == secret)
        for (body, field) in [(#"{"topics": ["*"]}"#, "url"), (#"{"url": "ftp://x.example.com", "topics": ["*"]}"#, "url"),
                              (#"{"url": "https://x.example.com", "topics": []}"#, "topics"),
                              (#"{"url": "https://x.example.com", "topics": ["*"], "contentType": "xml"}"#, "contentType"),
                              (#"{"url": "https://x.example.com", "topics": ["*"], "secret": "whsec_x"}"#, "secret")] {
            let refused = call(.post, "/webhook-endpoints", body)
            #expect(refused.status == 422 && (refused.json["error"] as? [String: Any])?["field"] as? String == field, "\(body): \(refused.json)")
        }
    }

    @Test("PATCH needs If-Match: 428 without, 412 on a stale ETag, 200 with the current one; config endpoints are 409")
    func patchWithETags() throws {
        let created = call(.post, "/webhook-endpoints", #"{"url": "https://hooks.example.com/in", "topics": ["*"]}"#)
        let id = try #require(created.json["id"] as? String)
        #expect(call(.patch, "/webhook-endpoints/\(id)", #"{"status": "suspended"}"#).status == 428)
        let changed = call(.patch, "/webhook-endpoints/\(id)", #"{"topics": ["arrival.*"], "status": "suspended"}"#, ifMatch: "\"1\"")
        #expect(changed.status == 200 && changed.headers["etag"] == "\"2\"" && changed.json["status"] as? String == "suspended")
        let stale = call(.patch, "/webhook-endpoints/\(id)", #"{"status": "active"}"#, ifMatch: "\"1\"")
        #expect(stale.status == 412, "\(stale.json)")
        #expect(outbox.registry.endpoint(id)?.status == .suspended, "the refused change changed nothing")
        #expect(call(.patch, "/webhook-endpoints/\(id)", #"{"contentType": "cloudEvents"}"#, ifMatch: "*").status == 422)
        // RFC 9110: If-Match compares strongly (a weak tag never matches) and a list matches if one entry does.
        #expect(call(.patch, "/webhook-endpoints/\(id)", #"{"status": "active"}"#, ifMatch: "W/\"2\"").status == 412)
        #expect(call(.patch, "/webhook-endpoints/\(id)", #"{"status": "active"}"#, ifMatch: "\"1\", \"2\"").headers["etag"] == "\"3\"")
        #expect(call(.patch, "/webhook-endpoints/crm", #"{"status": "inactive"}"#).status == 409, "read-only whatever If-Match says")
        #expect(call(.patch, "/webhook-endpoints/crm", #"{"status": "inactive"}"#, ifMatch: "*").status == 409)
        #expect(call(.patch, "/webhook-endpoints/we_none", #"{"status": "inactive"}"#, ifMatch: "*").status == 404)
        #expect(outbox.registry.endpoint(id)?.topics == ["arrival.*"] && outbox.registry.endpoint(id)?.status == .active)
    }

    @Test("rotate-secret: the new secret once; the old keeps signing for the grace period")
    func rotation() throws {
        let created = call(.post, "/webhook-endpoints", #"{"url": "https://hooks.example.com/in", "topics": ["*"]}"#)
        let id = try #require(created.json["id"] as? String), old = try #require(created.json["secret"] as? String)
        let rotated = call(.post, "/webhook-endpoints/\(id)/rotate-secret", #"{"grace_period_seconds": 3600}"#)
        let new = try #require(rotated.json["secret"] as? String)
        #expect(rotated.status == 200 && new != old && rotated.json["previous_secret_expires_at"] is String)
        let endpoint = try #require(outbox.registry.endpoint(id))
        #expect(endpoint.secrets.map(\.text) == [new, old])
        let headers = WebhookSigner.headers(id: "evt", timestamp: Date(), body: Array("{}".utf8), secrets: endpoint.secrets)
        let signatures = headers.first { $0.0 == "webhook-signature" }?.1.split(separator: " ") ?? []
        #expect(signatures.count == 2, "both secrets sign during the grace period")
        let again = call(.post, "/webhook-endpoints/\(id)/rotate-secret")
        #expect(again.status == 409, "a second rotation would drop the first secret before its grace period ends: \(again.json)")
        let expired = WebhookSigner.headers(id: "evt", timestamp: Date().addingTimeInterval(3601), body: Array("{}".utf8), secrets: endpoint.secrets)
        #expect(expired.first { $0.0 == "webhook-signature" }?.1.split(separator: " ").count == 1, "after the grace period only the new one signs")
        #expect(call(.post, "/webhook-endpoints/crm/rotate-secret").status == 409)
    }

    @Test("DELETE: 204, then 404; its undelivered events are marked dead")
    func deletion() throws {
        let id = try #require(call(.post, "/webhook-endpoints", #"{"url": "https://hooks.example.com/in", "topics": ["*"]}"#).json["id"] as? String)
        try store.pool.write { db in _ = try outbox.record("webhook.test", data: ["x": 1], at: Date(), in: db, onlyEndpoint: id) }
        #expect(call(.delete, "/webhook-endpoints/\(id)").status == 204)
        #expect(call(.get, "/webhook-endpoints/\(id)").status == 404 && call(.delete, "/webhook-endpoints/\(id)").status == 404)
        let status = try store.pool.read { db in try String.fetchOne(db, sql: "SELECT status || ':' || last_error FROM delivery WHERE endpoint_id = ?", arguments: [id]) }
        #expect(status == "dead:endpoint deleted")
        #expect(call(.delete, "/webhook-endpoints/crm").status == 409)
        let replayed = try store.pool.write { db in try outbox.replayDead(at: Date(), in: db) }
        #expect(replayed == 0, "a deleted endpoint's deliveries are not brought back to wait forever")
    }
}
