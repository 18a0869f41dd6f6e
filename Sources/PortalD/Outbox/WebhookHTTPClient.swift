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
        // Not `session.data(for:)`: cancelling a Swift task inside it deadlocks
        // FoundationNetworking (URLSessionTask.cancel waits on the session queue while
        // holding the task's status lock, which that queue needs to resume the task).
        // A completion-handler task, cancelled from another queue, cannot.
        let handle = CancellableTask()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<HTTPOutcome, Never>) in
                let task = session.dataTask(with: request) { _, response, error in
                    let latency = ContinuousClock.now - started
                    if let error {
                        continuation.resume(returning: HTTPOutcome(statusCode: nil, retryAfter: nil, error: Self.describe(error), latency: latency))
                    } else if let http = response as? HTTPURLResponse {
                        continuation.resume(returning: HTTPOutcome(statusCode: http.statusCode, retryAfter: http.value(forHTTPHeaderField: "Retry-After"),
                                                                   error: nil, latency: latency))
                    } else {
                        continuation.resume(returning: HTTPOutcome(statusCode: nil, retryAfter: nil, error: "not an HTTP response", latency: latency))
                    }
                }
                handle.start(task)
            }
        } onCancel: {
            DispatchQueue.global().async { handle.cancel() }
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

/// A data task that may be cancelled before it has started.
private final class CancellableTask: @unchecked Sendable {
    private let lock = NSLock()
    private var task: URLSessionDataTask?
    private var cancelled = false

    func start(_ task: URLSessionDataTask) {
        let cancelNow = lock.withLock { () -> Bool in
            self.task = task
            return cancelled
        }
        task.resume()
        if cancelNow { task.cancel() }
    }

    func cancel() {
        let task = lock.withLock { () -> URLSessionDataTask? in
            cancelled = true
            return self.task
        }
        task?.cancel()
    }
}
