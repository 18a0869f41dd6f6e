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

/// `Authorization: Bearer <token>` on every route of its group: 401 without a known
/// token, 429 for an address with too many failures (see `AuthFailureThrottle`).
struct BearerAuthentication: RouterMiddleware {
    let credentials: [AdminCredential]
    let throttle: AuthFailureThrottle

    func handle(_ request: HTTPRequest, context: AdminContext,
                next: (HTTPRequest, AdminContext) throws -> HTTPResponse) throws -> HTTPResponse {
        if let wait = throttle.retryAfter(request.clientAddress) {
            let seconds = max(1, Int(wait.components.seconds) + (wait.components.attoseconds > 0 ? 1 : 0))
            throw HTTPError(429, code: "too_many_failures",
                            message: "too many failed authentications from this address; try again in \(seconds) s",
                            headers: ["Retry-After": "\(seconds)"])
        }
        guard let header = request.headers["authorization"], header.lowercased().hasPrefix("bearer ") else {
            throw HTTPError(401, code: "unauthorized", message: "send Authorization: Bearer <token>",
                            headers: ["WWW-Authenticate": "Bearer realm=\"portald\""])
        }
        let presented = Array(header.dropFirst(7).trimmingCharacters(in: .whitespaces).utf8)
        // Every token is compared, so the time taken does not say which one matched.
        var match: AdminCredential?
        for credential in credentials where Crypto.constantTimeEqual(credential.secret, presented) && match == nil {
            match = credential
        }
        guard let credential = match else {
            throttle.failed(request.clientAddress, reason: "unknown token")
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
            // The token's name stays in the log: a caller with a leaked token learns nothing more.
            throw HTTPError(403, code: "forbidden", message: "this token lacks the scope \(scope)")
        }
        return try next(request, context)
    }
}
