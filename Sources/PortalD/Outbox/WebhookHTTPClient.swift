import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What one HTTP attempt came to.
struct HTTPOutcome: Sendable {
    var statusCode: Int?
    var retryAfter: String?
    var error: String?
    var latency: Duration
}

/// Posts webhook bodies. FoundationNetworking's URLSession (libcurl underneath):
/// TLS certificates verified against the system store, connections kept alive and
/// reused per host, a hard timeout per attempt, and redirects never followed
/// (a 3xx is an answer, not a success). Chosen over AsyncHTTPClient because it
/// adds no build time and does all of this.
final class WebhookHTTPClient: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    private var session: URLSession!
    let timeout: Duration

    init(timeout: Duration, maxConnectionsPerHost: Int) {
        self.timeout = timeout
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        let seconds = TimeInterval(timeout.components.seconds)
        configuration.timeoutIntervalForRequest = seconds
        configuration.timeoutIntervalForResource = seconds
        configuration.httpMaximumConnectionsPerHost = maxConnectionsPerHost
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
    }

    func post(_ url: URL, body: Data, headers: [(String, String)]) async -> HTTPOutcome {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = body
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let started = ContinuousClock.now
        do {
            let (_, response) = try await session.data(for: request)
            let http = response as? HTTPURLResponse
            return HTTPOutcome(statusCode: http?.statusCode, retryAfter: http?.value(forHTTPHeaderField: "Retry-After"),
                               error: http == nil ? "not an HTTP response" : nil, latency: ContinuousClock.now - started)
        } catch {
            return HTTPOutcome(statusCode: nil, retryAfter: nil, error: Self.describe(error), latency: ContinuousClock.now - started)
        }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }

    private static func describe(_ error: Error) -> String {
        if let error = error as? URLError {
            switch error.code {
            case .timedOut: return "timed out"
            case .cannotConnectToHost: return "connection refused"
            case .cannotFindHost: return "host not found"
            case .networkConnectionLost: return "connection lost"
            case .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateHasUnknownRoot, .secureConnectionFailed:
                return "TLS failed: \(error.localizedDescription)"
            default: return error.localizedDescription
            }
        }
        return "\(error)"
    }

    func close() { session.invalidateAndCancel() }
}
