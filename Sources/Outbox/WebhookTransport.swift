import Foundation

/// What one HTTP attempt came to.
public struct HTTPOutcome: Sendable, Equatable {
    public var statusCode: Int?
    public var retryAfter: String?
    public var error: String?
    public var latency: Duration

    public init(statusCode: Int?, retryAfter: String? = nil, error: String? = nil, latency: Duration = .zero) {
        self.statusCode = statusCode
        self.retryAfter = retryAfter
        self.error = error
        self.latency = latency
    }
}

/// Sends one signed POST. The dispatcher's only way out, so its rules (ordering,
/// retries, 410, fallback) are unit-tested with a fake; `CurlTransport` is the real one.
public protocol WebhookTransport: Sendable {
    /// Posts `body`; never throws: a failure is an outcome with `error` set.
    func post(_ url: URL, body: Data, headers: [(String, String)], timeout: Duration) async -> HTTPOutcome
    /// Aborts transfers in flight (shutdown); later posts fail at once.
    func close()
    var isClosed: Bool { get }
}
