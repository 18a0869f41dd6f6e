import Arrivals
import Firewall
import Foundation
import Lab
import Logging
import Testing
@testable import HTTPServer
@testable import Outbox
@testable import PortalD

/// Issue 7, item 8: the failure throttle counts devices, not addresses they can vary;
/// its memory is bounded; it cannot lock the local CLI out; a 403 is logged by token name.
@Suite("admin API throttle")
struct AdminThrottleTests {
    @Test("IPv6 sources count by their /64, IPv4 (and IPv4-mapped) by address")
    func keys() {
        #expect(AuthFailureThrottle.key(for: "192.0.2.10") == "192.0.2.10")
        #expect(AuthFailureThrottle.key(for: "::ffff:192.0.2.10") == "192.0.2.10")
        #expect(AuthFailureThrottle.key(for: "2001:db8:0:7::1") == "2001:db8:0:7::/64")
        #expect(AuthFailureThrottle.key(for: "2001:0db8:0000:0007:a:b:c:d") == "2001:db8:0:7::/64")
        #expect(AuthFailureThrottle.key(for: "2001:db8::1") == "2001:db8:0:0::/64")
        #expect(AuthFailureThrottle.key(for: "fe80::1%lan0") == "fe80:0:0:0::/64")
        #expect(AuthFailureThrottle.key(for: "::1") == "0:0:0:0::/64")
    }

    @Test("a device rotating through its /64 is refused after the limit like one address")
    func rotatingAddressesShareTheLimit() {
        let throttle = AuthFailureThrottle(limit: 3, logger: Logger(label: "t"))
        for host in 1...3 { throttle.failed("2001:db8:0:7::\(host)", reason: "unknown token") }
        #expect(throttle.retryAfter("2001:db8:0:7::99") != nil)
        #expect(throttle.retryAfter("2001:db8:0:8::1") == nil, "another /64 is another network")
    }

    @Test("memory is bounded: beyond capacity, new sources share one record, and expired ones make room again")
    func capacity() {
        let throttle = AuthFailureThrottle(limit: 2, window: .seconds(60), capacity: 4, logger: Logger(label: "t"))
        let start = ContinuousClock.now
        for host in 1...4 { throttle.failed("192.0.2.\(host)", reason: "unknown token", now: start) }
        // Two newcomers land in the shared record: together they reach the limit.
        throttle.failed("198.51.100.1", reason: "unknown token", now: start)
        throttle.failed("198.51.100.2", reason: "unknown token", now: start)
        #expect(throttle.retryAfter("198.51.100.3", now: start + .seconds(1)) != nil)
        #expect(throttle.retryAfter("192.0.2.1", now: start + .seconds(1)) == nil, "a tracked address keeps its own count")
        // Once the window has passed, expired records make room: a new source is counted on its own again.
        throttle.failed("203.0.113.1", reason: "unknown token", now: start + .seconds(61))
        throttle.failed("203.0.113.1", reason: "unknown token", now: start + .seconds(61))
        #expect(throttle.retryAfter("203.0.113.1", now: start + .seconds(62)) != nil)
        #expect(throttle.retryAfter("203.0.113.2", now: start + .seconds(62)) == nil)
    }

    @Test("only a token of the shape portald generates passes a throttled address; a hand-written one in the file does not")
    func generatedTokenShape() throws {
        let made = try LocalToken.ensure(path: Scratch.directory.appendingPathComponent("token-\(UUID())/admin.token").path)
        #expect(LocalToken.isGenerated(made))
        #expect(!LocalToken.isGenerated("pdl_" + String(repeating: "a", count: 42)))
        #expect(!LocalToken.isGenerated("pdl_" + String(repeating: "a", count: 42) + "!"))
        #expect(!LocalToken.isGenerated("hotel-it-" + String(repeating: "a", count: 38)))
    }

    func api(records: LogRecords) throws -> (AdminAPI, local: String, operator: String) {
        let (store, _) = try temporaryStore()
        let local = "pdl_" + String(repeating: "L", count: 43), operatorToken = String(repeating: "o", count: 40)
        let api = try makeAdminAPI(store: store,
                                   credentials: [AdminCredential(name: "local-cli", secret: Array(local.utf8), scopes: [AdminScope.all], unguessable: true),
                                                 AdminCredential(name: "front-desk-tablet", secret: Array(operatorToken.utf8), scopes: ["clients:read"])],
                                   throttle: AuthFailureThrottle(limit: 3, logger: Logger(label: "t")), logger: Logger(label: "t") { _ in records })
        return (api, local, operatorToken)
    }

    func call(_ api: AdminAPI, _ method: HTTPMethod, _ path: String, token: String) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Authorization", "Bearer \(token)")
        return api.answer(HTTPRequest(method: method, target: path, headers: headers, body: [], clientAddress: "127.0.0.1"))
    }

    @Test("wrong tokens flooding loopback do not lock the local CLI out; an operator's token is refused like a guess")
    func localCLIIsNotLockedOut() throws {
        let (api, local, operatorToken) = try api(records: LogRecords())
        for attempt in 1...3 { #expect(call(api, .get, "/api/v1/clients", token: "guess-\(attempt)").status == 401) }
        #expect(call(api, .get, "/api/v1/clients", token: "guess-4").status == 429)
        #expect(call(api, .get, "/api/v1/clients", token: operatorToken).status == 429)
        #expect(call(api, .get, "/api/v1/clients", token: local).status == 200)
    }

    @Test("a 403 is logged with the token's name, the scope and the route; the caller sees neither name")
    func forbiddenIsLogged() throws {
        let records = LogRecords()
        let (api, _, operatorToken) = try api(records: records)
        let response = call(api, .post, "/api/v1/clients/02:00:00:00:00:10/deauth", token: operatorToken)
        #expect(response.status == 403)
        #expect(!String(decoding: response.body, as: UTF8.self).contains("front-desk-tablet"))
        #expect(records.lines.contains { $0.contains("lacks the scope") && $0.contains("front-desk-tablet") && $0.contains("clients:write")
            && $0.contains("POST /api/v1/clients/02:00:00:00:00:10/deauth") }, "\(records.lines)")
    }
}
