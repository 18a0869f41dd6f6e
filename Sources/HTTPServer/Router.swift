/// Routes requests to handlers by method and path, through the middleware of the
/// groups a route was registered in. Modelled on Hummingbird 2's router, without
/// depending on it:
///
/// ```swift
/// let router = Router(context: AdminContext.self, errors: render)
/// let api = router.group("/api/v1", execution: .offloaded).add(middleware: BearerAuthentication(...))
/// api.group(middleware: RequireScope("clients:read")).get("/clients/{mac}") { request, context in … }
/// let responder = router.responder()
/// ```
///
/// Paths are literal segments and `{name}` captures (the OpenAPI spelling, so a
/// route's pattern is also its document path). Every GET answers HEAD. An unknown
/// path is a 404 and a known path with another method a 405 with `Allow`, both
/// rendered by `errors`, so each listener answers in its own format.
public final class Router<Context: RequestContext> {
    public typealias Handler = @Sendable (HTTPRequest, Context) throws -> HTTPResponse
    /// Renders an error in the listener's format (HTML page, JSON body).
    public typealias ErrorRenderer = @Sendable (HTTPError, HTTPRequest) -> HTTPResponse
    /// Maps an error that is not `HTTPErrorConvertible` (and logs it): a 500 by default.
    public typealias UnexpectedErrorHandler = @Sendable (any Error, HTTPRequest) -> HTTPError

    private let trie = RouteTrie<Context>()
    private(set) public var routes: [RouteDescription] = []
    let errors: ErrorRenderer
    let unexpected: UnexpectedErrorHandler

    public init(context: Context.Type = Context.self, errors: @escaping ErrorRenderer,
                unexpected: @escaping UnexpectedErrorHandler = { _, _ in .internalError }) {
        self.errors = errors
        self.unexpected = unexpected
    }

    /// A group at `path` (relative to the root), its routes run as `execution` says.
    public func group(_ path: String = "", execution: Execution = .inline) -> RouterGroup<Context> {
        RouterGroup(router: self, prefix: Self.segments(path), middleware: [], execution: execution)
    }

    public func on(_ method: HTTPMethod, _ path: String, execution: Execution = .inline, _ handler: @escaping Handler) {
        group(execution: execution).on(method, path, handler)
    }

    public func get(_ path: String, execution: Execution = .inline, _ handler: @escaping Handler) { on(.get, path, execution: execution, handler) }
    public func post(_ path: String, execution: Execution = .inline, _ handler: @escaping Handler) { on(.post, path, execution: execution, handler) }

    func add(_ method: HTTPMethod, segments: [String], route: Route<Context>) {
        precondition(method != .head, "HEAD is answered by the GET route")
        let pattern = "/" + segments.joined(separator: "/")
        var route = route
        route.pattern = pattern
        precondition(!routes.contains { $0.method == method && $0.path == pattern }, "\(method) \(pattern) is registered twice")
        trie.insert(segments: segments[...], method: method, route: route)
        routes.append(RouteDescription(method: method, path: pattern))
    }

    /// The finished routing table, immutable and safe to share between threads.
    /// `observer` is told of every answer (its route pattern, status and time taken).
    public func responder(observer: (any RequestObserver)? = nil) -> RouterResponder<Context> {
        RouterResponder(root: trie.frozen(), errors: errors, unexpected: unexpected, observer: observer)
    }

    static func segments(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init)
    }
}

/// Where a route's handler runs.
public enum Execution: Sendable {
    /// On the listener's thread: for work that never blocks (pages, redirects).
    case inline
    /// On the worker pool, with the connection suspended: for SQLite and netlink,
    /// so a slow request never stalls the other connections of its thread.
    case offloaded
}

/// A registered route, as tools (the OpenAPI check, docs) see it.
public struct RouteDescription: Sendable, Hashable, CustomStringConvertible {
    public var method: HTTPMethod
    /// The pattern, `{name}` for parameters: `/api/v1/clients/{mac}`.
    public var path: String
    public var description: String { "\(method) \(path)" }
}

/// Routes that share a path prefix, middleware and an execution mode.
public struct RouterGroup<Context: RequestContext> {
    let router: Router<Context>
    let prefix: [String]
    let middleware: [any RouterMiddleware<Context>]
    let execution: Execution

    /// The same group with `middleware` added after its current ones.
    public func add(middleware: any RouterMiddleware<Context>) -> RouterGroup {
        RouterGroup(router: router, prefix: prefix, middleware: self.middleware + [middleware], execution: execution)
    }

    /// A sub-group: a longer prefix, more middleware, maybe another execution mode.
    public func group(_ path: String = "", middleware more: [any RouterMiddleware<Context>] = [], execution: Execution? = nil) -> RouterGroup {
        RouterGroup(router: router, prefix: prefix + Router<Context>.segments(path), middleware: middleware + more,
                    execution: execution ?? self.execution)
    }

    public func on(_ method: HTTPMethod, _ path: String, _ handler: @escaping Router<Context>.Handler) {
        router.add(method, segments: prefix + Router<Context>.segments(path),
                   route: Route(handler: handler, middleware: middleware, execution: execution))
    }

    public func get(_ path: String, _ handler: @escaping Router<Context>.Handler) { on(.get, path, handler) }
    public func post(_ path: String, _ handler: @escaping Router<Context>.Handler) { on(.post, path, handler) }
    public func put(_ path: String, _ handler: @escaping Router<Context>.Handler) { on(.put, path, handler) }
    public func patch(_ path: String, _ handler: @escaping Router<Context>.Handler) { on(.patch, path, handler) }
    public func delete(_ path: String, _ handler: @escaping Router<Context>.Handler) { on(.delete, path, handler) }
}

/// One handler with the middleware chain it runs through.
struct Route<Context: RequestContext>: Sendable {
    let handler: Router<Context>.Handler
    let middleware: [any RouterMiddleware<Context>]
    let execution: Execution
    /// `/api/v1/clients/{mac}`: what metrics name the route by (never the concrete path).
    var pattern = ""

    func run(_ request: HTTPRequest, _ context: Context) throws -> HTTPResponse {
        try Self.chain(middleware[...], handler)(request, context)
    }

    private static func chain(_ rest: ArraySlice<any RouterMiddleware<Context>>,
                              _ handler: @escaping Router<Context>.Handler) -> (HTTPRequest, Context) throws -> HTTPResponse {
        guard let first = rest.first else { return handler }
        let next = chain(rest.dropFirst(), handler)
        return { request, context in try first.handle(request, context: context, next: next) }
    }
}
