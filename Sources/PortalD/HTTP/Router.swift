/// Routes by method and path. Patterns are literal segments and `:name` captures:
/// `router.get("/arrive/:token") { request in … request.parameters["token"] … }`.
///
/// An unknown path answers 404; a known path with another method answers 405
/// with an `Allow` header. Both through `fallback`, so each listener can answer
/// in its own format (HTML for guests, JSON for the admin API).
public struct Router: Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    private struct Route {
        let method: String
        let segments: [Substring]
        let handler: Handler
    }

    private var routes: [Route] = []
    private let notFound: Handler
    private let methodNotAllowed: @Sendable (HTTPRequest, [String]) -> HTTPResponse

    public init(notFound: @escaping Handler, methodNotAllowed: @escaping @Sendable (HTTPRequest, [String]) -> HTTPResponse) {
        self.notFound = notFound
        self.methodNotAllowed = methodNotAllowed
    }

    public mutating func add(_ method: String, _ pattern: String, _ handler: @escaping Handler) {
        routes.append(Route(method: method, segments: pattern.split(separator: "/"), handler: handler))
    }

    public mutating func get(_ pattern: String, _ handler: @escaping Handler) { add("GET", pattern, handler) }
    public mutating func post(_ pattern: String, _ handler: @escaping Handler) { add("POST", pattern, handler) }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        let segments = request.path.split(separator: "/")
        var allowed: [String] = []
        for route in routes {
            guard let parameters = Self.match(route.segments, segments) else { continue }
            // HEAD is GET without a body; the HTTP layer drops the body.
            if route.method == request.method || (route.method == "GET" && request.method == "HEAD") {
                var request = request
                request.parameters = parameters
                return route.handler(request)
            }
            allowed.append(route.method)
        }
        return allowed.isEmpty ? notFound(request) : methodNotAllowed(request, allowed)
    }

    private static func match(_ pattern: [Substring], _ path: [Substring]) -> [String: String]? {
        guard pattern.count == path.count else { return nil }
        var parameters: [String: String] = [:]
        for (expected, actual) in zip(pattern, path) {
            if expected.hasPrefix(":") {
                parameters[String(expected.dropFirst())] = String(actual)
            } else if expected != actual {
                return nil
            }
        }
        return parameters
    }
}
