/// Told of each webhook attempt and each delivery that settles, for metrics. The
/// outbox knows nothing of how they are counted (PortalD exports them to Prometheus).
public protocol DeliveryObserver: Sendable {
    /// One HTTP attempt (the main URL or the fallback) and how its answer counts.
    func attempted(endpoint: String, outcome: DeliveryOutcome, latency: Duration)
    /// A delivery reached `delivered` or `dead`.
    func settled(endpoint: String, status: DeliveryStatus)
    /// The endpoint was deleted (through the API, or from the config by a reload) and its
    /// delivery loop has ended: nothing more will be told of it.
    func forget(endpoint: String)
}

extension DeliveryObserver {
    public func forget(endpoint: String) {}
}

/// An attempt's outcome as metrics label it.
public enum DeliveryOutcome: String, Sendable, CaseIterable {
    /// 2xx.
    case delivered
    /// 408, 429 or 5xx: retried on the schedule.
    case retryable
    /// No answer at all (connection refused, timeout, TLS): retried.
    case networkError = "network_error"
    /// 410: the endpoint is suspended.
    case gone
    /// Any other answer: the event is dead.
    case rejected

    init(_ outcome: HTTPOutcome) {
        guard outcome.statusCode != nil else { self = .networkError; return }
        switch RetryPolicy.verdict(outcome) {
        case .delivered: self = .delivered
        case .retry: self = .retryable
        case .gone: self = .gone
        case .permanent: self = .rejected
        }
    }
}
