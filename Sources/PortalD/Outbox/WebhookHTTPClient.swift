import CCurl
import Foundation
import Synchronization

/// What one HTTP attempt came to.
struct HTTPOutcome: Sendable {
    var statusCode: Int?
    var retryAfter: String?
    var error: String?
    var latency: Duration
}

/// Posts webhook bodies with libcurl: the only Swift that touches it.
///
/// Why libcurl and not URLSession: FoundationNetworking spent ~0.8 ms of CPU per
/// delivery (and deadlocks when a Swift task is cancelled inside it); a reused curl
/// easy handle costs a fraction of that. TLS certificates are verified against the
/// system store, each attempt has a hard timeout, redirects are never followed (a
/// 3xx is an answer, not a success), and each handle keeps its connection alive.
///
/// One easy handle per in-flight request, each used from its own serial queue (so
/// blocking `curl_easy_perform` never runs on Swift's cooperative threads); handles
/// are pooled and reused.
final class WebhookHTTPClient: Sendable {
    let timeout: Duration
    private let pool = Mutex<[Connection]>([])
    private let abortFlag: AbortFlag

    init(timeout: Duration) {
        self.timeout = timeout
        abortFlag = AbortFlag()
        _ = Self.globalInit
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    func post(_ url: URL, body: Data, headers: [(String, String)]) async -> HTTPOutcome {
        let connection = pool.withLock { $0.popLast() } ?? Connection()
        let timeoutMilliseconds = Int(timeout.components.seconds * 1000)
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<HTTPOutcome, Never>) in
            connection.queue.async { [abortFlag] in
                continuation.resume(returning: connection.post(url.absoluteString, body: body, headers: headers,
                                                               timeoutMilliseconds: timeoutMilliseconds, abort: abortFlag))
            }
        }
        pool.withLock { $0.append(connection) }
        return outcome
    }

    /// Aborts transfers in flight (shutdown); later posts fail at once.
    func close() { abortFlag.raise() }

    var isClosed: Bool { abortFlag.isRaised }
}

/// A flag C reads from curl's progress callback.
private final class AbortFlag: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int32>
    init() {
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: 0)
    }
    func raise() { portald_curl_set_abort(pointer) }
    var isRaised: Bool { portald_curl_is_aborted(pointer) != 0 }
    deinit { pointer.deallocate() }
}

/// One curl easy handle and the serial queue it is used on.
private final class Connection: @unchecked Sendable {
    let queue = DispatchQueue(label: "portald.webhook.curl")
    private let easy: UnsafeMutableRawPointer

    init() {
        easy = curl_easy_init()
    }

    deinit { curl_easy_cleanup(easy) }

    func post(_ url: String, body: Data, headers: [(String, String)], timeoutMilliseconds: Int, abort: AbortFlag) -> HTTPOutcome {
        let started = ContinuousClock.now
        var list: UnsafeMutablePointer<curl_slist>? = nil
        // "Expect:" stops curl from waiting for a 100-continue on larger bodies.
        for line in headers.map({ "\($0.0): \($0.1)" }) + ["Expect:"] { list = curl_slist_append(list, line) }
        defer { curl_slist_free_all(list) }

        let code: CURLcode = url.withCString { urlPointer in
            body.withUnsafeBytes { bytes in
                portald_curl_setopt_ptr(easy, CURLOPT_URL, urlPointer)
                portald_curl_setopt_long(easy, CURLOPT_POST, 1)
                portald_curl_setopt_ptr(easy, CURLOPT_POSTFIELDS, bytes.baseAddress)
                portald_curl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
                portald_curl_setopt_ptr(easy, CURLOPT_HTTPHEADER, list)
                portald_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, timeoutMilliseconds)
                portald_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, min(timeoutMilliseconds, 10_000))
                portald_curl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
                portald_curl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
                portald_curl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
                portald_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
                portald_curl_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
                portald_curl_set_callbacks(easy, abort.pointer)
                return curl_easy_perform(easy)
            }
        }
        let latency = ContinuousClock.now - started
        portald_curl_setopt_ptr(easy, CURLOPT_HTTPHEADER, nil)  // the list is freed below
        guard code == CURLE_OK else {
            return HTTPOutcome(statusCode: nil, retryAfter: nil, error: Self.describe(code), latency: latency)
        }
        var header: UnsafeMutablePointer<curl_header>? = nil
        let retryAfter = curl_easy_header(easy, "Retry-After", 0, UInt32(CURLH_HEADER), -1, &header) == CURLHE_OK
            ? header.flatMap { $0.pointee.value.map { String(cString: $0) } } : nil
        return HTTPOutcome(statusCode: portald_curl_response_code(easy), retryAfter: retryAfter, error: nil, latency: latency)
    }

    private static func describe(_ code: CURLcode) -> String {
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return "timed out"
        case CURLE_COULDNT_CONNECT: return "connection refused"
        case CURLE_COULDNT_RESOLVE_HOST: return "host not found"
        case CURLE_ABORTED_BY_CALLBACK: return "aborted (shutting down)"
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE:
            return "TLS failed: \(String(cString: curl_easy_strerror(code)))"
        default: return String(cString: curl_easy_strerror(code))
        }
    }
}
