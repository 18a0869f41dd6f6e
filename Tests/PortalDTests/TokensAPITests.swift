import Arrivals
import Firewall
import Foundation
import Logging
import Outbox
import Store
import Testing
@testable import HTTPServer
@testable import PortalD

@Suite("admin API: tokens, scopes and rate limits")
struct TokensAPITests {
    let api: AdminAPI
    let store: Store
    let clock: TestClock
    static let local = "pdl_" + String(repeating: "L", count: 43)
    static let config = String(repeating: "c", count: 40)

    init() throws {
        let (store, _) = try temporaryStore()
        let clock = TestClock()
        api = try makeAdminAPI(store: store,
                               credentials: [AdminCredential(name: "local-cli", secret: Array(Self.local.utf8), scopes: [AdminScope.all], unguessable: true),
                                             AdminCredential(name: "pms-config", secret: Array(Self.config.utf8), scopes: [AdminScope.reservationsRead], rateLimit: 60)],
                               tokens: try APITokens(store: store, now: { clock.now }), rateLimitPerMinute: 60,
                               throttle: AuthFailureThrottle(limit: 1000, logger: Logger(label: "t")), limiter: RequestRateLimiter(now: { clock.now }))
        self.store = store
        self.clock = clock
    }

    struct Answer {
        var status: Int
        var json: [String: Any]
        var headers: HTTPHeaders
        var message: String { ((json["error"] as? [String: Any])?["message"] as? String) ?? "" }
    }

    func call(_ method: HTTPMethod, _ path: String, token: String, _ body: String = "") -> Answer {
        var headers = HTTPHeaders()
        headers.add("Authorization", "Bearer \(token)")
        let response = api.answer(HTTPRequest(method: method, target: path, headers: headers, body: Array(body.utf8), clientAddress: "192.0.2.50"))
        return Answer(status: response.status, json: (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:],
                      headers: response.headers)
    }

    func create(_ body: String, as token: String = local) throws -> String {
        let made = call(.post, "/api/v1/tokens", token: token, body)
        #expect(made.status == 201, "\(made.json)")
        return try #require(made.json["token"] as? String)
    }

    @Test("create → use → revoke → 401; the secret is shown once, stored as a hash, and survives a restart")
    func lifecycle() throws {
        let secret = try create(#"{"name": "pms", "scopes": ["reservations:read", "reservations:write"]}"#)
        #expect(secret.hasPrefix("pdt_") && secret.count == 47)
        let used = call(.get, "/api/v1/reservations", token: secret)
        #expect(used.status == 200)
        #expect(used.headers["x-ratelimit-limit"] == "60" && used.headers["x-ratelimit-remaining"] == "59")
        #expect(Int(used.headers["x-ratelimit-reset"] ?? "") == Int(clock.now.timeIntervalSince1970.rounded(.up)) + 60)

        let listed = call(.get, "/api/v1/tokens", token: Self.local)
        let tokens = try #require(listed.json["tokens"] as? [[String: Any]])
        #expect(tokens.map { $0["name"] as? String } == ["local-cli", "pms-config", "pms"])
        #expect(tokens.allSatisfy { $0["token"] == nil }, "a secret is never listed")
        #expect(tokens.map { $0["managed_by"] as? String } == ["local", "config", "api"])
        let row = try store.pool.read { db in try String.fetchOne(db, sql: "SELECT quote(hash) || scopes FROM api_token") } ?? ""
        #expect(!row.contains(secret) && row.hasSuffix("reservations:read reservations:write"))
        #expect(try APITokens(store: store).token(presented: Array(secret.utf8))?.name == "pms", "a restart reads it back")

        #expect(call(.delete, "/api/v1/tokens/pms", token: Self.local).status == 204)
        let revoked = call(.get, "/api/v1/reservations", token: secret)
        #expect(revoked.status == 401 && revoked.headers["www-authenticate"]?.contains("invalid_token") == true)
        #expect(call(.delete, "/api/v1/tokens/pms", token: Self.local).status == 404)
        #expect(call(.delete, "/api/v1/tokens/pms-config", token: Self.local).status == 409)
    }

    @Test("401 vs 403 as RFC 6750 says: no token, unknown token, insufficient scope")
    func unauthorizedAndForbidden() throws {
        let none = api.respond(to: HTTPRequest(method: .get, target: "/api/v1/tokens"))
        guard case .later(let work) = none else { Issue.record("not offloaded"); return }
        let missing = work()
        #expect(missing.status == 401 && missing.headers["www-authenticate"] == "Bearer realm=\"portald\"")
        #expect(call(.get, "/api/v1/tokens", token: "pdt_" + String(repeating: "x", count: 43)).status == 401)
        let forbidden = call(.get, "/api/v1/tokens", token: Self.config)
        #expect(forbidden.status == 403)
        #expect(forbidden.headers["www-authenticate"] == "Bearer realm=\"portald\", error=\"insufficient_scope\", scope=\"tokens:write\"")
        #expect(forbidden.headers["x-ratelimit-remaining"] == "59", "errors carry the rate-limit headers too")
    }

    @Test("the 61st request in a minute is 429 with Retry-After and the headers; the next minute is open again")
    func rateLimit() throws {
        let secret = try create(#"{"name": "n8n", "scopes": ["reservations:read"]}"#)
        for index in 1...60 {
            let answer = call(.get, "/api/v1/reservations/none", token: secret)
            #expect(answer.status == 404 && answer.headers["x-ratelimit-remaining"] == String(60 - index))
        }
        clock.advance(20)
        let refused = call(.get, "/api/v1/reservations", token: secret)
        #expect(refused.status == 429 && refused.headers["retry-after"] == "40" && refused.headers["x-ratelimit-remaining"] == "0", "\(refused.headers)")
        #expect(refused.message.contains("60 requests a minute"))
        #expect(call(.get, "/api/v1/reservations", token: Self.config).status == 200, "another token has its own count")
        #expect(call(.get, "/api/v1/tokens", token: Self.local).headers["x-ratelimit-limit"] == nil, "the local CLI is not limited")
        clock.advance(40)
        #expect(call(.get, "/api/v1/reservations", token: secret).status == 200)
        let custom = try create(#"{"name": "bulk", "scopes": ["reservations:write"], "rate_limit_per_minute": 5000}"#)
        #expect(call(.get, "/api/v1/reservations/x", token: custom).headers["x-ratelimit-limit"] == "5000")
    }

    @Test("an expired token is 401 naming the expiry; a token cannot give scopes it lacks; bad fields are 422")
    func expiryEscalationValidation() throws {
        let short = try create(#"{"name": "temp", "scopes": ["reservations:read"], "expires_in": "1h"}"#)
        clock.advance(3599)
        #expect(call(.get, "/api/v1/reservations", token: short).status == 200)
        clock.advance(1)
        let expired = call(.get, "/api/v1/reservations", token: short)
        #expect(expired.status == 401 && expired.message.contains("expired"))

        let minter = try create(#"{"name": "minter", "scopes": ["tokens:write", "reservations:read"]}"#)
        let escalated = call(.post, "/api/v1/tokens", token: minter, #"{"name": "x", "scopes": ["clients:write"]}"#)
        #expect(escalated.status == 403 && escalated.message.contains("clients:write"))
        #expect(call(.post, "/api/v1/tokens", token: minter, #"{"name": "y", "scopes": ["*"]}"#).status == 403)
        _ = try create(#"{"name": "z", "scopes": ["reservations:read"]}"#, as: minter)
        #expect(call(.post, "/api/v1/tokens", token: minter, #"{"name": "fast", "scopes": ["reservations:read"], "rate_limit_per_minute": 1000}"#).status == 403)
        let all = try create(#"{"name": "root", "scopes": ["*"]}"#)
        #expect(call(.delete, "/api/v1/tokens/root", token: minter).status == 403, "a token cannot revoke one more powerful")
        #expect(call(.delete, "/api/v1/tokens/z", token: minter).status == 204)
        let brief = try create(#"{"name": "brief", "scopes": ["tokens:write", "reservations:read"], "expires_in": "1h"}"#, as: all)
        #expect(call(.post, "/api/v1/tokens", token: brief, #"{"name": "forever", "scopes": ["reservations:read"]}"#).status == 403,
                "a token cannot make one that outlives it")
        _ = try create(#"{"name": "shorter", "scopes": ["reservations:read"], "expires_in": "30m"}"#, as: brief)
        #expect(call(.get, "/api/v1/tokens", token: "").status == 400, "an empty bearer is a malformed request (RFC 6750 invalid_request)")

        for (body, field) in [(#"{"scopes": ["*"]}"#, "name"), (#"{"name": "a b", "scopes": ["*"]}"#, "name"),
                              (#"{"name": "a", "scopes": []}"#, "scopes"), (#"{"name": "a", "scopes": ["admin"]}"#, "scopes"),
                              (#"{"name": "a", "scopes": ["*"], "expires_in": "soon"}"#, "expires_in"),
                              (#"{"name": "a", "scopes": ["*"], "colour": 1}"#, "colour")] {
            let answer = call(.post, "/api/v1/tokens", token: Self.local, body)
            #expect(answer.status == 422 && (answer.json["error"] as? [String: Any])?["field"] as? String == field, "\(body): \(answer.json)")
        }
        #expect(call(.post, "/api/v1/tokens", token: Self.local, #"{"name": "pms-config", "scopes": ["*"]}"#).status == 409)
        #expect(call(.post, "/api/v1/tokens", token: Self.local, #"{"name": "minter", "scopes": ["*"]}"#).status == 409)
        #expect(call(.post, "/api/v1/tokens", token: Self.local, "[]").status == 400)
    }
}
