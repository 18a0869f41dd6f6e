internal import CCurl
import Foundation
import Synchronization

/// Posts webhook bodies with libcurl's multi interface: the only Swift that touches libcurl.
///
/// Every transfer runs on one thread of its own, which drives all of them with
/// `curl_multi_poll`. Nothing blocks Swift's cooperative threads, any number of
/// deliveries can be in flight at once, and the multi handle's connection cache
/// keeps connections to each receiver alive.
///
/// Why libcurl and not URLSession: FoundationNetworking spent ~0.8 ms of CPU per
/// delivery (and deadlocks when a Swift task is cancelled inside it). TLS certificates
/// are verified against the system store, each attempt has a hard timeout, and
/// redirects are never followed (a 3xx is an answer, not a success).
public final class CurlTransport: WebhookTransport {
    private struct Request: Sendable {
        let url: String
        let body: Data
        let headers: [(String, String)]
        let timeoutMilliseconds: Int
        let continuation: CheckedContinuation<HTTPOutcome, Never>
    }

    private struct State {
        var inbox: [Request] = []
        var closed = false
    }

    private let state = Mutex(State())
    private let multi: Handle
    private let finished = DispatchSemaphore(value: 0)

    /// A curl handle; only the transfer thread uses it after setup.
    private struct Handle: @unchecked Sendable { let pointer: UnsafeMutableRawPointer }

    public init() {
        _ = Self.globalInit
        multi = Handle(pointer: curl_multi_init())
        // Keep a few connections per receiver; one per delivery in flight is the most used.
        portald_curl_multi_setopt_long(multi.pointer, CURLMOPT_MAXCONNECTS, 64)
        let thread = Thread { [self] in run() }
        thread.name = "portald.webhooks.curl"
        thread.start()
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public func post(_ url: URL, body: Data, headers: [(String, String)], timeout: Duration) async -> HTTPOutcome {
        let milliseconds = Int(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        return await withCheckedContinuation { continuation in
            let accepted = state.withLock { state -> Bool in
                guard !state.closed else { return false }
                state.inbox.append(Request(url: url.absoluteString, body: body, headers: headers,
                                           timeoutMilliseconds: max(1, milliseconds), continuation: continuation))
                // Under the lock: once `closed` is set no one wakes the multi handle, so
                // `close` may free it after the thread has ended.
                curl_multi_wakeup(multi.pointer)
                return true
            }
            if !accepted {
                continuation.resume(returning: HTTPOutcome(statusCode: nil, error: Self.aborted))
            }
        }
    }

    /// Aborts transfers in flight, waits for the transfer thread to end, and frees the
    /// multi handle (only then: `post` wakes it while holding the lock, never after `closed`).
    public func close() {
        let first = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.closed = true
            curl_multi_wakeup(multi.pointer)
            return true
        }
        guard first else { return }
        finished.wait()
        curl_multi_cleanup(multi.pointer)
    }

    public var isClosed: Bool { state.withLock { $0.closed } }

    static let aborted = "aborted (shutting down)"

    // MARK: The transfer thread

    /// A transfer in flight: what must live until curl is done with it.
    private struct Transfer {
        let request: Request
        let headerList: UnsafeMutablePointer<curl_slist>?
        let started: ContinuousClock.Instant
    }

    private func run() {
        var transfers: [UnsafeMutableRawPointer: Transfer] = [:]
        var idle: [UnsafeMutableRawPointer] = []  // easy handles kept for reuse
        while true {
            let (incoming, closed) = state.withLock { state -> ([Request], Bool) in
                defer { state.inbox.removeAll() }
                return (state.inbox, state.closed)
            }
            if closed {
                for request in incoming { request.continuation.resume(returning: HTTPOutcome(statusCode: nil, error: Self.aborted)) }
                for (easy, transfer) in transfers {
                    curl_multi_remove_handle(multi.pointer, easy)
                    finish(transfer, easy: easy, outcome: HTTPOutcome(statusCode: nil, error: Self.aborted,
                                                                      latency: ContinuousClock.now - transfer.started))
                    curl_easy_cleanup(easy)
                }
                idle.forEach { curl_easy_cleanup($0) }
                finished.signal()
                return
            }
            for request in incoming {
                guard let easy = idle.popLast() ?? curl_easy_init() else {
                    request.continuation.resume(returning: HTTPOutcome(statusCode: nil, error: "libcurl could not allocate a transfer"))
                    continue
                }
                let transfer = start(request, on: easy)
                guard curl_multi_add_handle(multi.pointer, easy) == CURLM_OK else {
                    finish(transfer, easy: easy, outcome: HTTPOutcome(statusCode: nil, error: "libcurl refused the transfer"))
                    idle.append(easy)
                    continue
                }
                transfers[easy] = transfer
            }
            var running: Int32 = 0
            curl_multi_perform(multi.pointer, &running)
            var done: UnsafeMutableRawPointer? = nil
            var result = CURLE_OK
            while portald_curl_multi_next_done(multi.pointer, &done, &result) == 1, let easy = done {
                curl_multi_remove_handle(multi.pointer, easy)
                if let transfer = transfers.removeValue(forKey: easy) {
                    finish(transfer, easy: easy, outcome: outcome(of: easy, result: result, started: transfer.started))
                }
                idle.append(easy)
            }
            // Sleeps until a socket is ready, a timeout is due, or `post`/`close` wakes it.
            curl_multi_poll(multi.pointer, nil, 0, 1000, nil)
        }
    }

    private func start(_ request: Request, on easy: UnsafeMutableRawPointer) -> Transfer {
        var list: UnsafeMutablePointer<curl_slist>? = nil
        // "Expect:" stops curl from waiting for a 100-continue on larger bodies.
        for line in request.headers.map({ "\($0.0): \($0.1)" }) + ["Expect:"] { list = curl_slist_append(list, line) }
        request.url.withCString { _ = portald_curl_setopt_ptr(easy, CURLOPT_URL, $0) }  // curl copies strings
        portald_curl_setopt_long(easy, CURLOPT_POST, 1)
        portald_curl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
        request.body.withUnsafeBytes { _ = portald_curl_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)) }
        portald_curl_setopt_ptr(easy, CURLOPT_HTTPHEADER, list)
        portald_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, request.timeoutMilliseconds)
        portald_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, min(request.timeoutMilliseconds, 10_000))
        portald_curl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        portald_curl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1)
        portald_curl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2)
        portald_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        portald_curl_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        portald_curl_discard_body(easy)
        return Transfer(request: request, headerList: list, started: .now)
    }

    private func outcome(of easy: UnsafeMutableRawPointer, result: CURLcode, started: ContinuousClock.Instant) -> HTTPOutcome {
        let latency = ContinuousClock.now - started
        guard result == CURLE_OK else { return HTTPOutcome(statusCode: nil, error: Self.describe(result), latency: latency) }
        var header: UnsafeMutablePointer<curl_header>? = nil
        let retryAfter = curl_easy_header(easy, "Retry-After", 0, UInt32(CURLH_HEADER), -1, &header) == CURLHE_OK
            ? header.flatMap { $0.pointee.value.map { String(cString: $0) } } : nil
        return HTTPOutcome(statusCode: portald_curl_response_code(easy), retryAfter: retryAfter, latency: latency)
    }

    private func finish(_ transfer: Transfer, easy: UnsafeMutableRawPointer, outcome: HTTPOutcome) {
        portald_curl_setopt_ptr(easy, CURLOPT_HTTPHEADER, nil)  // the list is freed next
        curl_slist_free_all(transfer.headerList)
        transfer.request.continuation.resume(returning: outcome)
    }

    private static func describe(_ code: CURLcode) -> String {
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return "timed out"
        case CURLE_COULDNT_CONNECT: return "connection refused"
        case CURLE_COULDNT_RESOLVE_HOST: return "host not found"
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CONNECT_ERROR, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE:
            return "TLS failed: \(String(cString: curl_easy_strerror(code)))"
        default: return String(cString: curl_easy_strerror(code))
        }
    }
}
