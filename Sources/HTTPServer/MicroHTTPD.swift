internal import CMicroHTTPD
import Foundation
import Synchronization

/// Settings of one listener.
public struct HTTPServerOptions: Sendable {
    public var listen: ListenAddress
    /// Threads answering requests. Each runs its own epoll loop over a share of the
    /// connections (MHD's thread pool), so a slow handler (a login writing SQLite and
    /// netlink) never stalls the redirects on the other threads. Measured in
    /// README, "Benchmarks": a pool of 2 beats one epoll thread on this 2-core machine.
    public var threads: Int
    public var connectionTimeoutSeconds: Int
    public var maxConnectionsPerIP: Int
    public var maxConnections: Int
    public var maxBodyBytes: Int

    public init(listen: ListenAddress, threads: Int = 2, connectionTimeoutSeconds: Int = 15,
                maxConnectionsPerIP: Int = 32, maxConnections: Int = 4096, maxBodyBytes: Int = 64 * 1024) {
        self.listen = listen
        self.threads = threads
        self.connectionTimeoutSeconds = connectionTimeoutSeconds
        self.maxConnectionsPerIP = maxConnectionsPerIP
        self.maxConnections = maxConnections
        self.maxBodyBytes = maxBodyBytes
    }
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
    private let context: Unmanaged<ServerContext>
    /// Set by the first `stop`: the context is released then, so later calls must not touch it.
    private let stopCalled = Mutex(false)

    private struct Daemon: @unchecked Sendable { let pointer: OpaquePointer }

    public init(options: HTTPServerOptions, responder: any HTTPResponder, workers: WorkerPool = .shared) throws {
        let socket = try ListeningSocket(options.listen)
        let context = Unmanaged.passRetained(ServerContext(responder: responder, workers: workers, maxBodyBytes: options.maxBodyBytes))
        let flags = MHD_USE_INTERNAL_POLLING_THREAD.rawValue | MHD_USE_EPOLL.rawValue | MHD_ALLOW_SUSPEND_RESUME.rawValue
        guard let daemon = portald_mhd_start(
            flags, socket.descriptor, UInt32(max(1, options.threads)),
            UInt32(options.connectionTimeoutSeconds), UInt32(options.maxConnectionsPerIP), UInt32(options.maxConnections),
            accessHandler, context.toOpaque(), requestCompleted, nil, uriLogger, nil)
        else {
            context.release()
            close(socket.descriptor)
            throw HTTPServerError("libmicrohttpd could not start on \(options.listen)")
        }
        self.daemon = Daemon(pointer: daemon)
        self.context = context
        self.port = socket.port
    }

    /// Stops accepting, lets offloaded work in flight finish (its connections must be
    /// resumed before MHD may stop), closes connections and joins MHD's threads.
    ///
    /// Returns false, leaving MHD running, when offloaded work is still out after
    /// `grace`: stopping MHD with a suspended connection is undefined behaviour, and the
    /// late worker would resume a freed connection. The process is ending then anyway.
    /// Blocks: call it from a thread that may wait, not from Swift's cooperative pool.
    @discardableResult
    public func stop(grace: Duration = .seconds(10)) -> Bool {
        guard stopCalled.withLock({ called in defer { called = true }; return !called }) else { return true }
        let context = context.takeUnretainedValue()
        context.beginStopping()
        let deadline = ContinuousClock.now + grace
        while context.suspendedCount > 0 && ContinuousClock.now < deadline { usleep(5_000) }
        guard context.suspendedCount == 0 else { return false }
        // MHD closes the listening socket it was given.
        MHD_stop_daemon(daemon.pointer)
        self.context.release()
        return true
    }
}

private final class ServerContext: Sendable {
    let responder: any HTTPResponder
    let workers: WorkerPool
    let maxBodyBytes: Int
    /// Suspended connections, and whether the server is stopping (then work runs inline).
    private let suspension = Mutex((count: 0, stopping: false))

    init(responder: any HTTPResponder, workers: WorkerPool, maxBodyBytes: Int) {
        self.responder = responder
        self.workers = workers
        self.maxBodyBytes = maxBodyBytes
    }

    var suspendedCount: Int { suspension.withLock { $0.count } }

    func beginStopping() { suspension.withLock { $0.stopping = true } }

    /// Counts a suspension in, unless the server is stopping.
    func mayOffload() -> Bool {
        suspension.withLock { state in
            guard !state.stopping else { return false }
            state.count += 1
            return true
        }
    }

    func resumed() { suspension.withLock { $0.count -= 1 } }
}

/// One request's state across MHD's calls of the access handler.
private final class RequestState: @unchecked Sendable {
    let target: String
    var started = false
    var body: [UInt8] = []
    var tooLarge = false
    var discarded = 0
    /// Set by the worker that ran offloaded work, read after MHD resumes the connection.
    let reply = Mutex<HTTPResponse?>(nil)
    var suspended = false
    init(target: String) { self.target = target }
}

/// The connection handle, carried to the worker that resumes it.
private struct SuspendedConnection: @unchecked Sendable { let pointer: OpaquePointer }

/// Called first for every request with the raw target (path and query still encoded);
/// what it returns becomes the request's state pointer.
private let uriLogger: portald_mhd_uri_logger = { _, uri, _ in
    let target = uri.map { String(cString: $0) } ?? "/"
    return Unmanaged.passRetained(RequestState(target: target)).toOpaque()
}

private let requestCompleted: MHD_RequestCompletedCallback = { _, _, state, _ in
    guard let state, let pointer = state.pointee else { return }
    Unmanaged<RequestState>.fromOpaque(pointer).release()
    state.pointee = nil
}

private let accessHandler: MHD_AccessHandlerCallback = { cls, connection, _, method, _, uploadData, uploadDataSize, statePointer in
    guard let cls, let connection, let statePointer, let raw = statePointer.pointee, let uploadDataSize else { return MHD_Result.NO }
    let context = Unmanaged<ServerContext>.fromOpaque(cls).takeUnretainedValue()
    let state = Unmanaged<RequestState>.fromOpaque(raw).takeUnretainedValue()

    // First call: headers only. Answering now would make MHD close the
    // connection (no keep-alive), so only refuse oversized bodies here.
    if !state.started {
        state.started = true
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
