/// Told of every request a router answered, for metrics: the route's pattern (never
/// the concrete path, so a guest's MAC or token is never a label), status and time.
public protocol RequestObserver: Sendable {
    func observe(_ observation: RequestObservation)
}

public struct RequestObservation: Sendable {
    /// The route's pattern (`/api/v1/clients/{mac}`), or `unmatched` for a 404.
    public var route: String
    public var status: Int
    /// From routing to the finished response; an offloaded route's includes its wait for a worker.
    public var duration: Duration

    public init(route: String, status: Int, duration: Duration) {
        self.route = route
        self.status = status
        self.duration = duration
    }

    /// The route label of a request no route matched.
    public static let unmatched = "(unmatched)"
}
