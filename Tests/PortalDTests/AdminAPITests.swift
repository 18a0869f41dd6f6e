import Arrivals
import Firewall
import Foundation
import Lab
import Logging
import Testing
@testable import HTTPServer
@testable import Outbox
@testable import PortalD
import Store

/// The admin router and the OpenAPI document it serves must describe the same API:
/// every route, every method and every scope, checked by behaviour, and the document
/// must pass an independent OpenAPI 3 validator.
@Suite("admin API and its OpenAPI document")
struct AdminAPITests {
    let api: AdminAPI
    /// Scope → a token holding only that scope; `nil` → a token holding every other one.
    let tokens: [String: String]

    init() throws {
        let (store, _) = try temporaryStore()
        let outbox = Outbox(siteID: "h", endpoints: [try WebhookEndpoint(
            id: "crm", url: URL(string: "http://192.0.2.99/hook")!,
            secrets: [WebhookSecret("whsec_" + Data(repeating: 7, count: 24).base64EncodedString())], topics: ["*"])])
        var credentials: [AdminCredential] = []
        var tokens: [String: String] = [:]
        for scope in AdminScope.known where scope != AdminScope.all {
            tokens[scope] = "only-\(scope)"
            // Rate-limited (generously), so their answers carry the X-RateLimit headers the document must declare.
            credentials.append(AdminCredential(name: "only-\(scope)", secret: Array("only-\(scope)".utf8), scopes: [scope], rateLimit: 10_000))
            credentials.append(AdminCredential(name: "all-but-\(scope)", secret: Array("all-but-\(scope)".utf8),
                                               scopes: AdminScope.known.subtracting([scope, AdminScope.all])))
        }
        self.tokens = tokens
        api = try makeAdminAPI(store: store, credentials: credentials, outbox: outbox,
                               health: { (HealthReport(failures: ["store": nil, "portal": nil]), Date()) },
                               // Every scope is tried with wrong tokens from one address: no throttling here (AdminAPIContractTests has it).
                               throttle: AuthFailureThrottle(limit: .max, logger: Logger(label: "t")))
    }

    func call(_ method: HTTPMethod, _ path: String, token: String? = nil) -> HTTPResponse {
        var headers = HTTPHeaders()
        if let token { headers.add("Authorization", "Bearer \(token)") }
        return api.answer(HTTPRequest(method: method, target: path, headers: headers, body: [], clientAddress: "127.0.0.1"))
    }

    /// The served document, as an independent JSON parser reads it.
    func servedDocument() throws -> [String: Any] {
        let response = call(.get, "/api/v1/openapi.json")
        #expect(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("application/json") == true)
        return try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    /// Documented operations: "METHOD /path" → required scope ("" for none).
    func documentedOperations() throws -> [String: String] {
        let paths = try #require(try servedDocument()["paths"] as? [String: [String: Any]])
        var operations: [String: String] = [:]
        for (path, methods) in paths {
            for (method, operation) in methods {
                let operation = try #require(operation as? [String: Any])
                operations["\(method.uppercased()) \(path)"] = operation["x-required-scope"] as? String ?? ""
            }
        }
        return operations
    }

    /// A concrete path for a pattern: parameters filled with plausible values.
    func concrete(_ pattern: String) -> String {
        pattern.split(separator: "/", omittingEmptySubsequences: false).map { segment in
            switch segment {
            case "{mac}": "02:00:00:00:00:99"
            case "{endpoint}": "crm"
            case "{id}" where pattern.hasPrefix("/api/v1/webhook-endpoints/"): "crm"
            case let other where other.hasPrefix("{"): "evt_0000000000000000"
            default: String(segment)
            }
        }.joined(separator: "/")
    }

    @Test("every route the router answers is documented, and nothing else is")
    func routesAndDocumentAgree() throws {
        // HEAD is answered for every GET by the router itself; OpenAPI documents the GET.
        let routed = Set(api.routes.filter { $0.method != .head }.map(\.description))
        let documented = Set(try documentedOperations().keys)
        #expect(routed.subtracting(documented).isEmpty, "routes missing from the document: \(routed.subtracting(documented).sorted())")
        #expect(documented.subtracting(routed).isEmpty, "documented but not routed: \(documented.subtracting(routed).sorted())")
        // Not vacuous: the outbox and webhook routes the old document left out are in both.
        #expect(routed.isSuperset(of: ["GET /api/v1/outbox", "POST /api/v1/webhooks/{endpoint}/test", "POST /api/v1/clients/{mac}/auth"]))
    }

    @Test("each documented scope is the one the route enforces")
    func scopesAreEnforcedAsDocumented() throws {
        for (operation, scope) in try documentedOperations() {
            let parts = operation.split(separator: " ")
            let method = HTTPMethod(rawValue: String(parts[0]))
            let path = concrete(String(parts[1]))
            if scope.isEmpty {
                let status = call(method, path).status
                #expect(status != 401 && status != 403, "\(operation) is documented as open but answered \(status) without a token")
                continue
            }
            #expect(AdminScope.known.contains(scope), "\(operation) documents an unknown scope \(scope)")
            #expect(call(method, path).status == 401, "\(operation) without a token")
            #expect(call(method, path, token: "not-a-token").status == 401, "\(operation) with an unknown token")
            let without = call(method, path, token: "all-but-\(scope)")
            #expect(without.status == 403, "\(operation) with every scope but \(scope) answered \(without.status)")
            let only = try #require(tokens[scope])
            let with = call(method, path, token: only).status
            #expect(with != 401 && with != 403, "\(operation) with only \(scope) answered \(with)")
        }
    }

    @Test("headers are documented where they are sent: a token's rate-limit headers, an endpoint's ETag; If-Match is a required parameter")
    func headersAreDocumentedWhereSent() throws {
        let paths = try #require(try servedDocument()["paths"] as? [String: [String: [String: Any]]])
        var seen: Set<String> = []
        for (path, methods) in paths {
            for (method, operation) in methods {
                guard let scope = operation["x-required-scope"] as? String, let token = tokens[scope] else { continue }
                let answer = call(HTTPMethod(rawValue: method.uppercased()), concrete(path), token: token)
                guard let documented = (operation["responses"] as? [String: [String: Any]])?[String(answer.status)] else { continue }
                let declared = Set((documented["headers"] as? [String: Any] ?? [:]).keys.map { $0.lowercased() })
                for name in ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "etag"] where answer.headers[name] != nil {
                    seen.insert(name)
                    #expect(declared.contains(name), "\(method.uppercased()) \(path) answered \(answer.status) with \(name), which its document does not declare")
                }
            }
        }
        #expect(seen.isSuperset(of: ["x-ratelimit-limit", "etag"]), "not vacuous: answers with these headers were looked at (\(seen))")
        let patch = try #require(paths["/api/v1/webhook-endpoints/{id}"]?["patch"]?["parameters"] as? [[String: Any]])
        #expect(patch.contains { $0["name"] as? String == "If-Match" && $0["in"] as? String == "header" && $0["required"] as? Bool == true })
    }

    /// Runs the independent `openapi-spec-validator` on a document.
    func validate(_ document: Data) throws -> CommandResult {
        let file = Scratch.directory.appendingPathComponent("openapi-\(UUID()).json")
        try document.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
        import json, sys
        from openapi_spec_validator import validate
        validate(json.load(open(sys.argv[1])))
        print("valid")
        """
        return try Shell.run(["python3", "-c", script, file.path], check: false)
    }

    @Test("the document passes openapi-spec-validator")
    func documentIsValidOpenAPI() throws {
        let result = try validate(Data(call(.get, "/api/v1/openapi.json").body))
        #expect(result.status == 0, "openapi-spec-validator: \(result.stderr)")
        #expect(result.stdout.contains("valid"))
    }

    @Test("the validator is not a rubber stamp: a broken document fails")
    func validatorRejectsABrokenDocument() throws {
        var document = try servedDocument()
        var paths = try #require(document["paths"] as? [String: Any])
        paths["/api/v1/clients/{mac}"] = ["get": ["responses": ["200": ["description": "x"]]]]  // path parameter undeclared
        document["paths"] = paths
        #expect(try validate(JSONSerialization.data(withJSONObject: document)).status != 0)
    }
}
