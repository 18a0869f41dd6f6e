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

    /// The parameter, or a 400 naming it (a route without it is a programming error).
    public func require(_ name: String) throws(HTTPError) -> String {
        guard let value = values[name] else { throw HTTPError.badRequest("missing_parameter", "the path has no \(name)") }
        return value
    }
}

/// A plain context: path parameters only.
public struct BasicRequestContext: RequestContext {
    public var parameters = Parameters()
    public init(request: HTTPRequest) {}
}
