import Crypto
import Foundation
import HTTPServer

/// An admin request's context: path parameters and, once authenticated, the token.
struct AdminContext: RequestContext {
    var parameters = Parameters()
    var credential: AdminCredential?
    init(request: HTTPRequest) {}

    /// The authenticated token (the auth middleware guarantees one on scoped routes).
    func requireCredential() throws(HTTPError) -> AdminCredential {
        guard let credential else { throw HTTPError(401, code: "unauthorized", message: "send Authorization: Bearer <token>") }
        return credential
    }
}

/// A token the admin API accepts: its name (for logs), secret and scopes.
struct AdminCredential: Sendable {
    let name: String
    let secret: [UInt8]
    let scopes: Set<String>

    func allows(_ scope: String) -> Bool { scopes.contains(AdminScope.all) || scopes.contains(scope) }
}

/// `Authorization: Bearer <token>` on every route of its group: 401 without a known token.
struct BearerAuthentication: RouterMiddleware {
    let credentials: [AdminCredential]

    func handle(_ request: HTTPRequest, context: AdminContext,
                next: (HTTPRequest, AdminContext) throws -> HTTPResponse) throws -> HTTPResponse {
        guard let header = request.headers["authorization"], header.lowercased().hasPrefix("bearer ") else {
            throw HTTPError(401, code: "unauthorized", message: "send Authorization: Bearer <token>",
                            headers: ["WWW-Authenticate": "Bearer realm=\"portald\""])
        }
        let presented = Array(header.dropFirst(7).trimmingCharacters(in: .whitespaces).utf8)
        guard let credential = credentials.first(where: { Crypto.constantTimeEqual($0.secret, presented) }) else {
            throw HTTPError(401, code: "unauthorized", message: "unknown token",
                            headers: ["WWW-Authenticate": "Bearer realm=\"portald\", error=\"invalid_token\""])
        }
        var context = context
        context.credential = credential
        return try next(request, context)
    }
}

/// The scope a group's routes need: 403 for a token without it. Checked once per group.
struct RequireScope: RouterMiddleware {
    let scope: String

    func handle(_ request: HTTPRequest, context: AdminContext,
                next: (HTTPRequest, AdminContext) throws -> HTTPResponse) throws -> HTTPResponse {
        let credential = try context.requireCredential()
        guard credential.allows(scope) else {
            throw HTTPError(403, code: "forbidden", message: "token \"\(credential.name)\" lacks the scope \(scope)")
        }
        return try next(request, context)
    }
}
