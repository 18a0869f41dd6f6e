internal import CMicroHTTPD
import Foundation
import Logging
import Synchronization

/// Settings of one listener.
public struct HTTPServerOptions: Sendable {
    public var listen: ListenAddress
    /// Threads answering requests. Each runs its own epoll loop over a share of the
    /// connections (MHD's thread pool), so a slow handler (a login writing SQLite and
    /// netlink) never stalls the redirects on the other threads. Measured in
    /// README, "Benchmarks": a pool of 2 beats one epoll thread on this 2-core machine.
    public var threads: Int
    /// Idle time after which MHD closes a connection.
    public var connectionTimeoutSeconds: Int
    /// Total time a request's line, headers and body may take to arrive (see `RequestDeadlines`).
    public var requestTimeoutSeconds: Int
    public var maxConnectionsPerIP: Int
    public var maxConnections: Int
    public var maxBodyBytes: Int
    /// Where MHD's own errors and the deadline sweeper's notices go.
    public var logger: Logger

    /// `maxConnections` defaults to what the process's descriptor limit allows.
    public init(listen: ListenAddress, threads: Int = 2, connectionTimeoutSeconds: Int = 15, requestTimeoutSeconds: Int = 10,
                maxConnectionsPerIP: Int = 32, maxConnections: Int? = nil, maxBodyBytes: Int = 64 * 1024,
                logger: Logger = Logger(label: "portald.http", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.listen = listen
        self.threads = threads
        self.connectionTimeoutSeconds = connectionTimeoutSeconds
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.maxConnectionsPerIP = maxConnectionsPerIP
        self.maxConnections = maxConnections ?? DescriptorLimit.connectionBudget()
        self.maxBodyBytes = maxBodyBytes
        self.logger = logger
    }

    /// More query parameters than this (or fewer long ones) are answered 414 before MHD
    /// parses them: MHD keeps them in the connection's 32 KiB pool, and when it runs out
    /// while parsing them it answers nothing (398 one-byte parameters, or 256 of 60 bytes).
    public static let maxQueryParameters = 256
}

/// An HTTP/1.1 server on libmicrohttpd: the only Swift that touches its C API.
///
/// The responder gets each complete request (body included, at most `maxBodyBytes`;
/// more answers 413) on one of MHD's threads. What it answers `.now` is sent from
/// there; work it hands back as `.later` runs on the worker pool while MHD keeps the
/// connection suspended (`MHD_suspend_connection`) and serves the others, and is
/// sent once the work resumes it.
public final class HTTPServer: Sendable {
    public let port: UInt16
    private let daemon: Daemon
    private let deadlines: RequestDeadlines
    private let context: Unmanaged<ServerContext>
    /// Set by the first `stop`: the context is released then, so later calls must not touch it.
    private let stopCalled = Mutex(false)

    private struct Daemon: @unchecked Sendable { let pointer: OpaquePointer }

    public init(options: HTTPServerOptions, responder: any HTTPResponder, workers: WorkerPool = .shared) throws {
        let socket = try ListeningSocket(options.listen)
        let deadlines = RequestDeadlines(limit: .seconds(options.requestTimeoutSeconds), label: "\(options.listen)", logger: options.logger)
        let context = Unmanaged.passRetained(ServerContext(responder: responder, workers: workers, maxBodyBytes: options.maxBodyBytes,
                                                           deadlines: deadlines, logger: options.logger))
        let flags = MHD_USE_INTERNAL_POLLING_THREAD.rawValue | MHD_USE_EPOLL.rawValue | MHD_ALLOW_SUSPEND_RESUME.rawValue
            | MHD_USE_ERROR_LOG.rawValue
        let opaque = context.toOpaque()
        guard let daemon = portald_mhd_start(
            flags, socket.descriptor, UInt32(max(1, options.threads)),
            UInt32(options.connectionTimeoutSeconds), UInt32(options.maxConnectionsPerIP), UInt32(max(1, options.maxConnections)),
            accessHandler, opaque, requestCompleted, opaque, uriLogger, opaque, connectionNotified, opaque, errorLog, opaque)
        else {
            context.release()
            close(socket.descriptor)
            throw HTTPServerError("libmicrohttpd could not start on \(options.listen)")
        }
        deadlines.startSweeping()
        self.daemon = Daemon(pointer: daemon)
        self.deadlines = deadlines
        self.context = context
        self.port = socket.port
    }

    /// A count that moves whenever MHD's threads open or close a connection or finish a
    /// response. A listener that does not answer a probe while this moves is saturated,
    /// not hung (see the daemon's health check).
    public var activity: Int { deadlines.activity }

    /// Connections whose request is out on the worker pool (for tests that stop a server under one).
    var suspendedConnections: Int { context.takeUnretainedValue().suspendedCount }

    /// From now on, offloaded work runs inline on MHD's thread. When several listeners
    /// stop, call it on each first, so none takes new work while another drains.
    public func beginStopping() {
        stopCalled.withLock { called in if !called { context.takeUnretainedValue().beginStopping() } }
    }

    /// Stops accepting, lets offloaded work in flight finish and its answers go out, closes
    /// connections and joins MHD's threads.
    ///
    /// Waits up to `grace` for offloaded work. Returns false, leaving MHD running, when some
    /// is still out then: stopping MHD with a suspended connection is undefined behaviour,
    /// and the late worker would resume a freed connection. The process is ending anyway.
    /// Then up to `sending` for the answers MHD's threads send after each resume (a client
    /// that reads slowly would otherwise hold the stop); answers still going out are cut
    /// and logged. Blocks: call it from a thread that may wait, not from Swift's cooperative pool.
    @discardableResult
    public func stop(grace: Duration = .seconds(10), sending: Duration = .seconds(2)) -> Bool {
        guard stopCalled.withLock({ called in defer { called = true }; return !called }) else { return true }
        let context = context.takeUnretainedValue()
        context.beginStopping()
        let deadline = ContinuousClock.now + grace
        while context.suspendedCount > 0 && ContinuousClock.now < deadline { usleep(5_000) }
        guard context.suspendedCount == 0 else { return false }
        // Resumed is not answered: MHD queues and sends the answer on its own thread after,
        // and reports each request completed (sent, or its connection closed).
        let sent = ContinuousClock.now + sending
        while context.unansweredCount > 0 && ContinuousClock.now < sent { usleep(5_000) }
        if case let cut = context.unansweredCount, cut > 0 {
            context.logger.warning("stopping with answers still going out to slow clients; they are cut", metadata: ["answers": "\(cut)"])
        }
        // MHD closes the listening socket it was given.
        MHD_stop_daemon(daemon.pointer)
        context.deadlines.stop()
        self.context.release()
        return true
    }
}

/// One request's state across MHD's calls of the access handler.
private final class RequestState: @unchecked Sendable {
    let target: String
    /// Set when the target alone is refused (too many query parameters).
    var refusal: HTTPError?
    var started = false
    var body: [UInt8] = []
    var tooLarge = false
    var discarded = 0
    /// Set by the worker that ran offloaded work, read after MHD resumes the connection.
    let reply = Mutex<HTTPResponse?>(nil)
    var suspended = false
    /// Its work went to the worker pool: the server's stop waits for its completion.
    var offloaded = false
    init(target: String) { self.target = target }
}

/// The connection handle, carried to the worker that resumes it.
private struct SuspendedConnection: @unchecked Sendable { let pointer: OpaquePointer }

/// Called first for every request with the raw target (path and query still encoded);
/// what it returns becomes the request's state pointer.
private let uriLogger: portald_mhd_uri_logger = { cls, uri, connection in
    let target = uri.map { String(cString: $0) } ?? "/"
    let state = RequestState(target: target)
    if let cls, let connection, overflowsConnectionPool(target) {
        // MHD would parse them next and hang (see `maxQueryParameters`): answer on the
        // socket now, and have the sweeper close the connection MHD no longer serves.
        let context = Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue()
        let refusal = HTTPError(414, code: "too_many_parameters",
                                message: "The query is too large: at most \(HTTPServerOptions.maxQueryParameters) parameters, and fewer when they are long.",
                                headers: ["Connection": "close"])
        state.refusal = refusal
        let response = context.responder.respond(to: refusal, for: HTTPRequest(method: .get, target: "/"))
        writeDirectly(response, to: portald_mhd_connection_fd(connection))
        context.deadlines.cutSoon(UInt(bitPattern: connection))
    }
    return Unmanaged.passRetained(state).toOpaque()
}

private let requestCompleted: MHD_RequestCompletedCallback = { cls, connection, state, termination in
    if let cls, let connection {
        Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue().deadlines
            .awaitingNext(UInt(bitPattern: connection), answered: termination == MHD_RequestTerminationCode.REQUEST_TERMINATED_COMPLETED_OK)
    }
    guard let state, let pointer = state.pointee else { return }
    let request = Unmanaged<RequestState>.fromOpaque(pointer)
    if let cls, request.takeUnretainedValue().offloaded { Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue().answered() }
    request.release()
    state.pointee = nil
}

private let connectionNotified: MHD_NotifyConnectionCallback = { cls, connection, _, event in
    guard let cls, let connection else { return }
    let deadlines = Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue().deadlines
    switch event {
    case MHD_ConnectionNotificationCode.CONNECTION_NOTIFY_STARTED:
        deadlines.opened(UInt(bitPattern: connection), descriptor: portald_mhd_connection_fd(connection))
    default:
        deadlines.closed(UInt(bitPattern: connection))
    }
}

/// MHD's own errors (a failed accept, a descriptor shortage) into the daemon's log.
private let errorLog: MHD_LogCallback = { cls, format, arguments in
    guard let cls, let format, let arguments else { return }
    var buffer = [UInt8](repeating: 0, count: 512)
    let written = buffer.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, format, arguments) }
    let message = String(decoding: buffer.prefix(min(max(0, Int(written)), buffer.count - 1)), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue().libraryErrors.report(message)
}

/// Whether MHD would run out of the connection's pool parsing the query (see
/// `maxQueryParameters`): it keeps the target and a record of about 48 bytes per
/// parameter there, so the bound is on both, with room left for the headers.
private func overflowsConnectionPool(_ target: String) -> Bool {
    guard let query = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return false }
    let parameters = target.utf8[query...].reduce(1) { $1 == UInt8(ascii: "&") ? $0 + 1 : $0 }
    return parameters > HTTPServerOptions.maxQueryParameters || target.utf8.count + 64 * parameters > 16 * 1024
}

/// A whole response written straight to the socket (the status line and headers MHD
/// would write, then the body), followed by the end of our side of the stream.
private func writeDirectly(_ response: HTTPResponse, to descriptor: Int32) {
    var head = "HTTP/1.1 \(response.status) \(String(cString: MHD_get_reason_phrase_for(UInt32(response.status))))\r\n"
    for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
    head += "Content-Length: \(response.body.count)\r\n\r\n"
    ListeningSocket.sendLast(Array(head.utf8) + response.body, to: descriptor)
}

private let accessHandler: MHD_AccessHandlerCallback = { cls, connection, _, method, version, uploadData, uploadDataSize, statePointer in
    guard let cls, let connection, let statePointer, let raw = statePointer.pointee, let uploadDataSize else { return MHD_Result.NO }
    let context = Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue()
    let state = Unmanaged<RequestState>.fromOpaque(raw).takeUnretainedValue()

    // First call: headers only. Answering now would make MHD close the
    // connection (no keep-alive), so only refuse malformed requests and oversized bodies here.
    if !state.started {
        state.started = true
        if let refusal = state.refusal ?? framingProblem(connection, version: version.map { String(cString: $0) } ?? "") {
            return queue(connection, context.responder.respond(to: refusal, for: request(connection, HTTPMethod(method), state)))
        }
        if let length = lookupHeader(connection, "Content-Length").flatMap(Int.init), length > context.maxBodyBytes {
            return queue(connection, context.responder.respond(to: tooLarge(context.maxBodyBytes),
                                                               for: request(connection, HTTPMethod(method), state)))
        }
        return MHD_Result.YES
    }
    if uploadDataSize.pointee > 0 {
        let count = uploadDataSize.pointee
        if state.tooLarge || state.body.count + count > context.maxBodyBytes {
            // MHD accepts a response only once the body is in (chunked bodies have no
            // length up front), so discard it and answer 413 at the end; a client that
            // keeps streaming far past the limit is cut off.
            uploadDataSize.pointee = 0
            state.tooLarge = true
            state.body = []
            state.discarded += count
            return state.discarded > 16 * context.maxBodyBytes ? MHD_Result.NO : MHD_Result.YES
        }
        if let uploadData {
            uploadData.withMemoryRebound(to: UInt8.self, capacity: count) {
                state.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: count))
            }
        }
        uploadDataSize.pointee = 0
        return MHD_Result.YES
    }
    // The request is in: from here its time is the handler's, not the client's.
    context.deadlines.handling(UInt(bitPattern: connection))
    if state.suspended {
        // Called again after the worker resumed the connection: send what it made.
        state.suspended = false
        let reply = state.reply.withLock { $0.take() }
            ?? context.responder.respond(to: .internalError, for: HTTPRequest(method: .get, target: state.target))
        return queue(connection, reply)
    }
    let methodName = HTTPMethod(method)
    if !state.tooLarge,
       let early = context.responder.respondEarly(method: methodName, target: state.target, host: lookupHeader(connection, "Host")) {
        return queue(connection, early)
    }
    let request = request(connection, methodName, state)
    if state.tooLarge { return queue(connection, context.responder.respond(to: tooLarge(context.maxBodyBytes), for: request)) }

    switch context.responder.respond(to: request) {
    case .now(let response):
        return queue(connection, response)
    case .later(let work):
        guard context.mayOffload() else { return queue(connection, work()) }
        state.suspended = true
        state.offloaded = true
        MHD_suspend_connection(connection)
        let suspended = SuspendedConnection(pointer: connection)
        context.workers.submit {
            let response = work()
            state.reply.withLock { $0 = response }
            MHD_resume_connection(suspended.pointer)
            context.resumed()
        }
        return MHD_Result.YES
    }
}

private func request(_ connection: OpaquePointer, _ method: HTTPMethod, _ state: RequestState) -> HTTPRequest {
    // A stack buffer: every request, captured ones included, comes through here.
    let client = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { buffer in
        portald_mhd_client_address(connection, buffer.baseAddress!, socklen_t(buffer.count)) == 0 ? String(cString: buffer.baseAddress!) : ""
    }
    return HTTPRequest(method: method, target: state.target,
                       headers: headers(connection), body: state.body, clientAddress: client)
}

extension HTTPMethod {
    /// The method MHD parsed (never absent in practice).
    fileprivate init(_ name: UnsafePointer<CChar>?) {
        self.init(rawValue: name.map { String(cString: $0) } ?? "GET")
    }
}

private func tooLarge(_ limit: Int) -> HTTPError {
    HTTPError(413, code: "payload_too_large", message: "The request body exceeds \(limit) bytes.", headers: ["Connection": "close"])
}

private func queue(_ connection: OpaquePointer, _ response: HTTPResponse) -> MHD_Result {
    let created = response.body.withUnsafeBytes { bytes in
        MHD_create_response_from_buffer(bytes.count, UnsafeMutableRawPointer(mutating: bytes.baseAddress), .RESPMEM_MUST_COPY)
    }
    guard let created else { return MHD_Result.NO }
    defer { MHD_destroy_response(created) }
    for (name, value) in response.headers {
        // withCString: a native String's bytes as they are (the implicit conversion copies them).
        _ = name.withCString { name in value.withCString { value in MHD_add_response_header(created, name, value) } }
    }
    return MHD_queue_response(connection, UInt32(response.status), created)
}

private final class FramingHeaders {
    var hosts = 0
    var lengths: Set<String> = []
    var transferEncoding = false
}

/// What libmicrohttpd accepts but a request must not have: the ways two parsers on the
/// path (a proxy, this server) could disagree on where a request ends or whom it is for.
private func framingProblem(_ connection: OpaquePointer, version: String) -> HTTPError? {
    let seen = FramingHeaders()
    withExtendedLifetime(seen) {
        // (A NUL inside a value cannot be seen here: libmicrohttpd 0.9.75 stores values by
        // strlen, so `Host: a\0b` arrives as "a". See README, "HTTP limits".)
        // Every request passes here, captured redirects included: names are compared as C
        // strings, and only the values looked at are copied.
        _ = MHD_get_connection_values(connection, MHD_ValueKind.HEADER_KIND, { cls, _, key, value in
            guard let cls, let key else { return MHD_Result.YES }
            let seen = Unmanaged<FramingHeaders>.fromOpaque(cls).takeUnretainedValue()
            if strcasecmp(key, "host") == 0 {
                seen.hosts += 1
            } else if strcasecmp(key, "content-length") == 0 {
                seen.lengths.insert(value.map { String(cString: $0) } ?? "")
            } else if strcasecmp(key, "transfer-encoding") == 0 {
                seen.transferEncoding = true
            }
            return MHD_Result.YES
        }, Unmanaged.passUnretained(seen).toOpaque())
    }
    let (hosts, lengths, transferEncoding) = (seen.hosts, seen.lengths, seen.transferEncoding)
    func bad(_ code: String, _ message: String) -> HTTPError {
        HTTPError(400, code: code, message: message, headers: ["Connection": "close"])
    }
    if lengths.count > 1 { return bad("conflicting_content_length", "The request has two different Content-Length headers.") }
    if !lengths.isEmpty && transferEncoding {
        return bad("conflicting_framing", "The request has both Content-Length and Transfer-Encoding.")
    }
    if hosts > 1 { return bad("duplicate_host", "The request has more than one Host header.") }
    if hosts == 0 && version == "HTTP/1.1" { return bad("missing_host", "An HTTP/1.1 request needs a Host header.") }
    return nil
}

private func lookupHeader(_ connection: OpaquePointer, _ name: String) -> String? {
    MHD_lookup_connection_value(connection, MHD_ValueKind.HEADER_KIND, name).map { String(cString: $0) }
}

private func headers(_ connection: OpaquePointer) -> HTTPHeaders {
    var headers = HTTPHeaders()
    // MHD calls back synchronously, so the callback may write through a pointer to this local.
    withUnsafeMutablePointer(to: &headers) { pointer in
        _ = MHD_get_connection_values(connection, MHD_ValueKind.HEADER_KIND, { cls, _, key, value in
            guard let cls, let key else { return MHD_Result.YES }
            cls.assumingMemoryBound(to: HTTPHeaders.self).pointee.add(String(cString: key), value.map { String(cString: $0) } ?? "")
            return MHD_Result.YES
        }, pointer)
    }
    return headers
}
