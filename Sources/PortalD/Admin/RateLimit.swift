import Foundation
import HTTPServer
import Synchronization

/// Requests per token per minute: a fixed window that starts with a token's first
/// request. Counted in memory (a restart forgives), per token name.
final class RequestRateLimiter: Sendable {
    private let windows = Mutex<[String: (start: Date, count: Int)]>([:])
    let now: @Sendable () -> Date

    init(now: @escaping @Sendable () -> Date = { Date() }) { self.now = now }

    struct Decision {
        var allowed: Bool
        var remaining: Int
        var reset: Date
    }

    func take(_ name: String, limit: Int) -> Decision {
        let now = now()
        return windows.withLock { windows in
            var window = windows[name] ?? (now, 0)
            if now >= window.start + 60 { window = (now, 0) }
            let allowed = window.count < limit
            if allowed { window.count += 1 }
            windows[name] = window
            return Decision(allowed: allowed, remaining: max(0, limit - window.count), reset: window.start + 60)
        }
    }
}

/// `X-RateLimit-Limit`, `-Remaining` and `-Reset` (Unix time the window ends, as GitHub
/// and Laravel send it) on every answer to a limited token, errors included; past the
/// limit, 429 with `Retry-After` (seconds). The local CLI's token is not limited.
struct RateLimiting: RouterMiddleware {
    let limiter: RequestRateLimiter

    func handle(_ request: HTTPRequest, context: AdminContext,
                next: (HTTPRequest, AdminContext) throws -> HTTPResponse) throws -> HTTPResponse {
        guard let credential = context.credential, let limit = credential.rateLimit else { return try next(request, context) }
        let decision = limiter.take(credential.name, limit: limit)
        let headers = ["X-RateLimit-Limit": String(limit), "X-RateLimit-Remaining": String(decision.remaining),
                       "X-RateLimit-Reset": String(Int64(decision.reset.timeIntervalSince1970.rounded(.up)))]
        guard decision.allowed else {
            let seconds = max(1, Int(decision.reset.timeIntervalSince(limiter.now()).rounded(.up)))
            throw HTTPError(429, code: "rate_limited", message: "this token may make \(limit) requests a minute; try again in \(seconds) s",
                            headers: headers.merging(["Retry-After": String(seconds)]) { $1 })
        }
        do {
            var response = try next(request, context)
            for (name, value) in headers.sorted(by: { $0.key < $1.key }) { response.headers.add(name, value) }
            return response
        } catch let error as any HTTPErrorConvertible {
            var answer = error.httpError
            answer.headers.merge(headers) { own, _ in own }
            throw answer
        }
    }
}
