/// Per-request state that middleware fills in and handlers read: path parameters,
/// and whatever a listener adds (the authenticated token, the guest's locale).
/// Modelled on Hummingbird 2's `RequestContext`; one concrete type per listener.
public protocol RequestContext: Sendable {
    /// A fresh context for a request that has just been routed.
    init(request: HTTPRequest)
    /// Path parameters, filled in by the router (`/clients/{mac}` → `mac`).
    var parameters: Parameters { get set }
}

/// Path parameters of a matched route.
public struct Parameters: Sendable, Equatable {
    private var values: [String: String] = [:]

    public init(_ values: [String: String] = [:]) { self.values = values }

    public subscript(name: String) -> String? {
        get { values[name] }
        set { values[name] = newValue }
    }

    /// The parameter. Its absence means the route's pattern lacks it, a programming
    /// error, not the client's: a 500 naming it.
    public func require(_ name: String) throws(HTTPError) -> String {
        guard let value = values[name] else {
            throw HTTPError(500, code: "internal_error", message: "the route has no parameter {\(name)}")
        }
        return value
    }
}

/// A plain context: path parameters only.
public struct BasicRequestContext: RequestContext {
    public var parameters = Parameters()
    public init(request: HTTPRequest) {}
}
