import Foundation
import GRDB
import HTTPServer
import Outbox

/// A token as `GET /api/v1/tokens` and `portald tokens list` show it: never its secret.
public struct TokenView: Codable, Sendable, Equatable {
    public var name: String
    public var scopes: [String]
    public var createdAt: Date?
    public var expiresAt: Date?
    public var rateLimitPerMinute: Int?
    /// "api" (made by `tokens create`), "config" (`[[admin.tokens]]`) or "local" (the CLI's file).
    public var managedBy: String
    /// Only in the answer to its creation.
    public var token: String?

    enum CodingKeys: String, CodingKey {
        case name, scopes, createdAt = "created_at", expiresAt = "expires_at", rateLimitPerMinute = "rate_limit_per_minute"
        case managedBy = "managed_by", token
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(scopes, forKey: .scopes)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encode(rateLimitPerMinute, forKey: .rateLimitPerMinute)
        try container.encode(managedBy, forKey: .managedBy)
        try container.encodeIfPresent(token, forKey: .token)
    }
}

/// `/api/v1/tokens…`: make, list and revoke API tokens (`portald tokens`).
struct TokensController {
    let tokens: APITokens
    /// The local CLI's and the config file's tokens: listed, never changed here.
    let fixed: AdminCredentials
    let defaultRateLimit: Int

    static let namePattern = "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
    static let lifetimePattern = "^[1-9][0-9]{0,3}[smhd]$"

    /// A token's lifetime: 1 to 9999 seconds, minutes, hours or days ("90d").
    static func lifetime(_ text: String) -> TimeInterval? {
        guard text.wholeMatch(of: /[1-9][0-9]{0,3}[smhd]/) != nil, let number = Double(text.dropLast()) else { return nil }
        return number * ["s": 1, "m": 60, "h": 3600, "d": 86400][text.last!]!
    }

    func addRoutes(to api: DocumentedRoutes) {
        let write = api.scoped(AdminScope.tokensWrite)
        write.get("/tokens", APIOperation(summary: "Every token that opens the API (never a secret)",
                                          responses: [200: ("tokens", "TokenList")])) { _, _ in
            let listed = fixed.all.map { credential in
                TokenView(name: credential.name, scopes: credential.scopes.sorted(), rateLimitPerMinute: credential.rateLimit,
                          managedBy: credential.unguessable ? "local" : "config")
            } + tokens.all.map { token in
                TokenView(name: token.name, scopes: token.scopes.sorted(), createdAt: token.createdAt, expiresAt: token.expiresAt,
                          rateLimitPerMinute: token.rateLimit ?? defaultRateLimit, managedBy: "api")
            }
            return .json(["tokens": listed])
        }
        write.post("/tokens", APIOperation(summary: "Make a token; its secret is in this answer only", body: AdminSchemas.ref("TokenRequest"),
                                           bodyRequired: true, responses: [
            201: ("the token, with its secret", "Token"), 400: ("not a JSON object", "Error"),
            403: ("asks for a scope the caller's token lacks", "Error"), 409: ("the name is taken", "Error"),
            422: ("a field is wrong; error.field names it", "Error"),
        ])) { request, context in try create(request, context) }
        write.delete("/tokens/{name}", APIOperation(summary: "Revoke a token: it stops working at once", responses: [
            204: ("revoked", nil), 404: ("no such token", "Error"), 409: ("defined in the config file or the CLI's own", "Error"),
        ])) { _, context in
            let name = try context.parameters.require("name")
            if let target = tokens.all.first(where: { $0.name == name }) {
                // Revoking is power over the token: only a caller holding all it grants may.
                let caller = try context.requireCredential()
                if !caller.scopes.contains(AdminScope.all), let missing = target.scopes.sorted().first(where: { !caller.allows($0) || $0 == AdminScope.all }) {
                    throw HTTPError(403, code: "forbidden", message: "this token cannot revoke \(name), which grants \(missing)")
                }
                guard try tokens.revoke(name: name) else { throw HTTPError.notFound("no token \(name)") }
                return HTTPResponse(status: 204)
            }
            if fixed.all.contains(where: { $0.name == name }) {
                throw HTTPError(409, code: "managed_by_config", message: "token \(name) is defined in the configuration (or is the CLI's own); remove it there")
            }
            throw HTTPError.notFound("no token \(name)")
        }
    }

    func create(_ request: HTTPRequest, _ context: AdminContext) throws -> HTTPResponse {
        let body = try RequestFields(request.body, allowed: ["name", "scopes", "expires_in", "rate_limit_per_minute"],
                                     shape: "a JSON object {\"name\", \"scopes\", \"expires_in\"?, \"rate_limit_per_minute\"?}").object
        let invalid = RequestFields.invalid
        guard case .string(let name)? = body["name"], name.wholeMatch(of: /[A-Za-z0-9][A-Za-z0-9._-]{0,63}/) != nil else {
            throw invalid("name", "required: 1 to 64 letters, digits, '.', '_' or '-'")
        }
        guard case .array(let items)? = body["scopes"], !items.isEmpty else { throw invalid("scopes", "required: a list of at least one scope") }
        var scopes: Set<String> = []
        for item in items {
            guard case .string(let scope) = item, AdminScope.known.contains(scope) else {
                throw invalid("scopes", "known scopes: \(AdminScope.known.sorted().joined(separator: ", "))")
            }
            scopes.insert(scope)
        }
        var expiresAt: Date?
        switch body["expires_in"] {
        case nil, .null?: break
        case .string(let text)?:
            guard let lifetime = Self.lifetime(text) else { throw invalid("expires_in", "\"\(text)\" is not a lifetime like \"90d\" or \"12h\" (1 to 9999 s, m, h or d)") }
            expiresAt = tokens.now().addingTimeInterval(lifetime)
        default: throw invalid("expires_in", "must be a duration like \"90d\"")
        }
        var rateLimit: Int?
        switch body["rate_limit_per_minute"] {
        case nil, .null?: break
        case .number(let number)? where number.rounded() == number && (1...1_000_000).contains(number): rateLimit = Int(number)
        default: throw invalid("rate_limit_per_minute", "must be a whole number from 1 to 1000000")
        }
        // A token cannot mint more power than it holds.
        let caller = try context.requireCredential()
        if let missing = scopes.sorted().first(where: { !caller.allows($0) || ($0 == AdminScope.all && !caller.scopes.contains(AdminScope.all)) }) {
            throw HTTPError(403, code: "forbidden", message: "this token cannot give the scope \(missing), which it does not hold")
        }
        // Nor outlive or outpace it.
        if let limit = caller.expiresAt, (expiresAt ?? .distantFuture) > limit {
            throw HTTPError(403, code: "forbidden", message: "this token expires at \(RFC3339.string(limit)); it cannot make one that lasts longer")
        }
        if let limit = caller.rateLimit, (rateLimit ?? defaultRateLimit) > limit {
            throw HTTPError(403, code: "forbidden", message: "this token may make \(limit) requests a minute; it cannot make one allowed more")
        }
        if fixed.all.contains(where: { $0.name == name }) || tokens.all.contains(where: { $0.name == name }) {
            throw HTTPError(409, code: "name_taken", message: "a token named \(name) exists; revoke it first or choose another name")
        }
        let made: (APITokens.StoredToken, secret: String)
        do {
            made = try tokens.create(name: name, scopes: scopes, expiresAt: expiresAt, rateLimit: rateLimit)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw HTTPError(409, code: "name_taken", message: "a token named \(name) exists; revoke it first or choose another name")
        }
        let (token, secret) = made
        return .json(TokenView(name: token.name, scopes: token.scopes.sorted(), createdAt: token.createdAt, expiresAt: token.expiresAt,
                               rateLimitPerMinute: token.rateLimit ?? defaultRateLimit, managedBy: "api", token: secret), status: 201)
    }
}
