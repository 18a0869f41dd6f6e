/// Code that runs around the handlers of a group: authentication, locale
/// resolution, logging. Calls `next` to go on, or answers (or throws) itself.
/// Added once to a group, it covers every route registered in it.
public protocol RouterMiddleware<Context>: Sendable {
    associatedtype Context: RequestContext
    func handle(_ request: HTTPRequest, context: Context,
                next: (HTTPRequest, Context) throws -> HTTPResponse) throws -> HTTPResponse
}

/// A middleware from a closure.
public struct MiddlewareClosure<Context: RequestContext>: RouterMiddleware {
    let body: @Sendable (HTTPRequest, Context, (HTTPRequest, Context) throws -> HTTPResponse) throws -> HTTPResponse

    public init(_ body: @escaping @Sendable (HTTPRequest, Context, (HTTPRequest, Context) throws -> HTTPResponse) throws -> HTTPResponse) {
        self.body = body
    }

    public func handle(_ request: HTTPRequest, context: Context,
                       next: (HTTPRequest, Context) throws -> HTTPResponse) throws -> HTTPResponse {
        try body(request, context, next)
    }
}
