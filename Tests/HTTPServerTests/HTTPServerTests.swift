import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization
import Testing
@testable import HTTPServer

/// The real libmicrohttpd listener on loopback, driven by curl.
@Suite("HTTP server over libmicrohttpd", .serialized)
struct HTTPServerTests {
    func withServer(maxBody: Int = 1024, perIP: Int = 32, _ body: (String) throws -> Void) throws {
        let router = Router(context: BasicRequestContext.self, errors: { error, _ in
            error.status == 404 ? .plainJSON(HTTPError(404, code: "not_found", message: "nothing here")) : .plainJSON(error)
        })
        router.get("/echo/{name}") { request, context in
            let fields = ["name": context.parameters["name"] ?? "", "q": request.query["q"] ?? "", "client": request.clientAddress,
                          "ua": request.headers["user-agent"] ?? "", "target": request.target]
            return .json(bytes: Array(try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])))
        }
        router.post("/form") { request, _ in .text("accept=\(request.form?["accept"] ?? "-") bytes=\(request.body.count)") }
        router.post("/slow", execution: .offloaded) { request, _ in
            usleep(UInt32(Int(request.query["ms"] ?? "0") ?? 0) * 1000)
            return .text("slept")
        }
        let server = try HTTPServer(options: HTTPServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0), threads: 1,
                                                               connectionTimeoutSeconds: 5, maxConnectionsPerIP: perIP, maxBodyBytes: maxBody),
                                    responder: router.responder())
        defer { server.stop() }
        try body("http://127.0.0.1:\(server.port)")
    }

    func curl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-s", "--max-time", "5"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func routesQueriesAndHeaders() throws {
        try withServer { (base: String) throws in
            let body = try curl(["-A", "phone/1.0", "\(base)/echo/zo%C3%AB?q=a+b%26c"])
            #expect(body.contains(#""name":"zoë""#))
            #expect(body.contains(#""q":"a b&c""#))
            #expect(body.contains(#""client":"127.0.0.1""#))
            #expect(body.contains(#""ua":"phone/1.0""#))
            #expect(body.contains(#""target":"/echo/zo%C3%AB?q=a+b%26c""#))
            #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", "\(base)/missing"]) == "404")
            #expect(try curl(["\(base)/missing"]) == #"{"error":{"code":"not_found","message":"nothing here"}}"#)
            #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE", "\(base)/echo/x"]) == "405")
        }
    }

    @Test func formBodiesAndTheSizeLimit() throws {
        try withServer(maxBody: 1024) { (base: String) throws in
            #expect(try curl(["-d", "accept=yes&x=1", "\(base)/form"]) == "accept=yes bytes=14")
            let big = String(repeating: "a", count: 5000)
            #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", "-d", "x=\(big)", "\(base)/form"]) == "413")
            // Chunked, without a length up front: refused once it passes the limit.
            #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", "-H", "Transfer-Encoding: chunked", "-d", "x=\(big)", "\(base)/form"]) == "413")
        }
    }

    @Test func keepAliveReusesTheConnection() throws {
        try withServer { (base: String) throws in
            let verbose = try curl(["-v", "-o", "/dev/null", "-o", "/dev/null", "\(base)/echo/a", "\(base)/echo/b"])
            #expect(verbose.contains("Re-using existing connection") || verbose.contains("Reusing existing connection"))
            #expect(!verbose.lowercased().contains("connection: close"))
        }
    }

    @Test("offloaded work does not stall other requests on the same MHD thread")
    func offloadedWorkRunsBeside() throws {
        try withServer { (base: String) throws in
            // One MHD thread: a 1.5 s offloaded request, and meanwhile a quick one on another connection.
            let slow = Process()
            slow.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            slow.arguments = ["curl", "-s", "-X", "POST", "--max-time", "5", "\(base)/slow?ms=1500"]
            let pipe = Pipe()
            slow.standardOutput = pipe
            try slow.run()
            usleep(200_000)
            let started = ContinuousClock.now
            #expect(try curl(["\(base)/echo/quick"]).contains("quick"))
            #expect(ContinuousClock.now - started < .milliseconds(700), "the quick request waited for the slow one")
            slow.waitUntilExit()
            #expect(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "slept")
        }
    }

    /// Runs `curl` in the background; `finish` waits and returns its output.
    func background(_ arguments: [String]) throws -> () -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-s", "--max-time", "5"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        return {
            process.waitUntilExit()
            return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        }
    }

    func slowServer() throws -> HTTPServer {
        let router = Router(context: BasicRequestContext.self, errors: { error, _ in .plainJSON(error) })
        router.post("/slow", execution: .offloaded) { request, _ in
            usleep(UInt32(Int(request.query["ms"] ?? "0") ?? 0) * 1000)
            return .text("slept")
        }
        router.post("/big", execution: .offloaded) { _, _ in
            usleep(300_000)
            return .text(String(repeating: "x", count: 32_000_000))
        }
        return try HTTPServer(options: HTTPServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0), threads: 1),
                              responder: router.responder())
    }

    @Test("stop waits for offloaded work in flight, and its client still gets the answer")
    func stopWaitsForOffloadedWork() throws {
        let server = try slowServer()
        let finish = try background(["-X", "POST", "http://127.0.0.1:\(server.port)/slow?ms=600"])
        // Until the request is suspended on the worker pool (a fixed wait was too short for curl on a busy machine).
        let deadline = ContinuousClock.now + .seconds(5)
        while server.suspendedConnections == 0 && ContinuousClock.now < deadline { usleep(5_000) }
        #expect(server.suspendedConnections == 1)
        let started = ContinuousClock.now
        #expect(server.stop())
        #expect(ContinuousClock.now - started >= .milliseconds(200), "stop did not wait for the suspended connection")
        #expect(finish() == "slept")
        #expect(server.stop(), "a second stop is harmless")
        #expect(try curl(["-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(server.port)/slow"]) == "000")
    }

    @Test("stop waits until a resumed answer is sent, not only until its work is done: a slow reader gets all of it")
    func stopWaitsForTheAnswerToGoOut() throws {
        let server = try slowServer()
        // 32 MB read at 16 MB/s: more than the sockets buffer, so the answer takes about 2 s to go out after the work is done.
        let finish = try background(["-X", "POST", "--limit-rate", "16M", "-o", "/dev/null", "-w", "%{size_download}",
                                     "http://127.0.0.1:\(server.port)/big"])
        let deadline = ContinuousClock.now + .seconds(5)
        while server.suspendedConnections == 0 && ContinuousClock.now < deadline { usleep(5_000) }
        #expect(server.stop(sending: .seconds(6)))
        #expect(finish() == "32000000", "the answer was cut when MHD stopped")

        // A reader too slow for the sending bound does not hold the stop: its answer is cut.
        let slower = try slowServer()
        let cut = try background(["-X", "POST", "--limit-rate", "4M", "-o", "/dev/null", "-w", "%{size_download}",
                                  "http://127.0.0.1:\(slower.port)/big"])
        while slower.suspendedConnections == 0 && ContinuousClock.now < deadline + .seconds(5) { usleep(5_000) }
        let started = ContinuousClock.now
        #expect(slower.stop(sending: .milliseconds(300)))
        #expect(ContinuousClock.now - started < .seconds(3), "stop waited for a slow reader")
        #expect((Int(cut()) ?? 0) < 32_000_000, "the slow reader's answer was cut")
    }

    @Test("stop gives up after its grace period rather than stopping MHD under a suspended connection")
    func stopGivesUpWithWorkOutstanding() throws {
        let server = try slowServer()
        let finish = try background(["-X", "POST", "http://127.0.0.1:\(server.port)/slow?ms=800"])
        usleep(200_000)
        #expect(!server.stop(grace: .milliseconds(100)))
        // The worker resumes a connection that still exists, and the client gets its answer.
        #expect(finish() == "slept")
    }

    @Test("HEAD is answered for every GET, with the GET's headers and no body")
    func headForGet() throws {
        try withServer { (base: String) throws in
            let head = try curl(["-I", "\(base)/echo/x"])
            #expect(head.hasPrefix("HTTP/1.1 200"))
            #expect(head.lowercased().contains("content-type: application/json"))
            #expect(!head.contains("\"name\""))
        }
    }

    @Test func bindErrorsAreClear() throws {
        try withServer { (base: String) throws in
            let port = UInt16(base.split(separator: ":").last!)!
            #expect(throws: HTTPServerError.self) {
                _ = try HTTPServer(options: HTTPServerOptions(listen: ListenAddress(host: "127.0.0.1", port: port)), responder: Fixed(.text("")))
            }
        }
        #expect(throws: HTTPServerError.self) {
            _ = try HTTPServer(options: HTTPServerOptions(listen: ListenAddress(host: "not-an-ip", port: 0)), responder: Fixed(.text("")))
        }
    }
}

/// Raw TCP clients, for limits curl cannot show.
@Suite("HTTP server limits", .serialized)
struct HTTPServerLimitTests {
    func connect(_ port: UInt16) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw HTTPServerError("connect failed") }
        var timeout = timeval(tv_sec: 3, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Sends a request and reads until the server closes or answers; "" means closed unanswered.
    func exchange(_ fd: Int32, _ request: String = "GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n") -> String {
        _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : ""
    }

    func server(perIP: Int, timeout: Int) throws -> HTTPServer {
        try HTTPServer(options: HTTPServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0), threads: 1,
                                                  connectionTimeoutSeconds: timeout, maxConnectionsPerIP: perIP),
                       responder: Fixed(.text("ok")))
    }

    @Test func perIPConnectionLimit() throws {
        let server = try server(perIP: 2, timeout: 10)
        defer { server.stop() }
        let first = try connect(server.port)
        let second = try connect(server.port)
        defer { close(second) }
        usleep(100_000)
        let third = try connect(server.port)
        defer { close(third) }
        #expect(exchange(third) == "", "a third connection from one address was served")
        // Closed once, here: a second close() could hit a descriptor another test
        // (or MHD) has opened meanwhile under the same number.
        close(first)
        usleep(100_000)
        let fourth = try connect(server.port)
        defer { close(fourth) }
        #expect(exchange(fourth).hasPrefix("HTTP/1.1 200"))
    }

    /// Reads until the server closes the connection (or 5 s pass); returns what came and when it ended.
    func readToEnd(_ fd: Int32) -> (text: String, closed: Bool) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { return (String(decoding: received, as: UTF8.self), true) }
            if count < 0 { return (String(decoding: received, as: UTF8.self), errno == ECONNRESET) }
            received += buffer.prefix(count)
        }
    }

    @Test("requests two parsers could read differently are refused 400, and the connection closed")
    func ambiguousFramingIsRefused() throws {
        let server = try server(perIP: 32, timeout: 10)
        defer { server.stop() }
        let refused = [
            "two Content-Lengths": "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde",
            "Content-Length with Transfer-Encoding": "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "HTTP/1.1 without Host": "GET /x HTTP/1.1\r\n\r\n",
            "two Hosts": "GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        ]
        for (what, request) in refused {
            let fd = try connect(server.port)
            defer { close(fd) }
            _ = request.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            let answer = readToEnd(fd)
            #expect(answer.text.hasPrefix("HTTP/1.1 400"), "\(what): \(answer.text)")
            #expect(answer.closed, "\(what): the connection stayed open")
        }
        let accepted = [
            "the same Content-Length twice": "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab",
            "HTTP/1.0 without Host": "GET /x HTTP/1.0\r\n\r\n",
        ]
        for (what, request) in accepted {
            let fd = try connect(server.port)
            defer { close(fd) }
            #expect(exchange(fd, request).hasPrefix("HTTP/1.1 200"), "\(what) was refused")
        }
    }

    @Test("a query with too many parameters is answered 414 at once, not left to MHD's timeout")
    func tooManyQueryParameters() throws {
        let server = try server(perIP: 32, timeout: 10)
        defer { server.stop() }
        func get(parameters: Int, valueBytes: Int = 1) throws -> (text: String, took: Duration) {
            let fd = try connect(server.port)
            defer { close(fd) }
            let query = (0..<parameters).map { "p\($0)=\(String(repeating: "v", count: valueBytes))" }.joined(separator: "&")
            let started = ContinuousClock.now
            _ = "GET /x?\(query) HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            return (readToEnd(fd).text, ContinuousClock.now - started)
        }
        let many = try get(parameters: 500)
        #expect(many.text.hasPrefix("HTTP/1.1 414"), "\(many.text)")
        #expect(many.took < .seconds(2), "took \(many.took)")
        // Fewer, but long: MHD's pool runs out all the same.
        let long = try get(parameters: 256, valueBytes: 60)
        #expect(long.text.hasPrefix("HTTP/1.1 414"), "\(long.text)")
        #expect(long.took < .seconds(2), "took \(long.took)")
        #expect(try get(parameters: 200).text.hasPrefix("HTTP/1.1 200"))
        #expect(try get(parameters: 20, valueBytes: 200).text.hasPrefix("HTTP/1.1 200"))
    }

    @Test("a request that keeps sending headers is cut at the total deadline; a slow handler is not")
    func requestDeadline() throws {
        let server = try HTTPServer(options: HTTPServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0), threads: 1,
                                                               connectionTimeoutSeconds: 10, requestTimeoutSeconds: 1),
                                    responder: Slow(milliseconds: 1500))
        defer { server.stop() }
        // One header line every 200 ms: never idle, so only the total deadline ends it.
        let trickler = try connect(server.port)
        defer { close(trickler) }
        let started = ContinuousClock.now
        _ = "GET /x HTTP/1.1\r\nHost: t\r\n".withCString { send(trickler, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        var cutAfter: Duration?
        for line in 0..<25 {
            usleep(200_000)
            if "X-\(line): y\r\n".withCString({ send(trickler, $0, strlen($0), Int32(MSG_NOSIGNAL)) }) < 0 {
                cutAfter = ContinuousClock.now - started
                break
            }
        }
        let cut = try #require(cutAfter, "the trickling request was never cut")
        #expect(cut >= .milliseconds(900) && cut < .milliseconds(2500), "cut after \(cut)")

        // A complete request whose handler takes longer than the deadline is answered.
        let patient = try connect(server.port)
        defer { close(patient) }
        _ = "GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".withCString { send(patient, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
        #expect(readToEnd(patient).text.hasPrefix("HTTP/1.1 200"))
    }

    @Test("libmicrohttpd's own errors reach the daemon's log")
    func libraryErrorsAreLogged() throws {
        let records = LogRecords()
        let server = try HTTPServer(options: HTTPServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0), threads: 1,
                                                               logger: Logger(label: "test") { _ in records }),
                                    responder: Fixed(.text("ok")))
        defer { server.stop() }
        let fd = try connect(server.port)
        defer { close(fd) }
        let headers = (0..<1500).map { "X-\($0): v\r\n" }.joined()
        #expect(exchange(fd, "GET /x HTTP/1.1\r\nHost: t\r\n\(headers)\r\n").hasPrefix("HTTP/1.1 431"))
        usleep(100_000)
        #expect(records.messages.contains { $0.hasPrefix("libmicrohttpd: ") && $0.contains("431") }, "\(records.messages)")
    }

    @Test func idleConnectionsTimeOut() throws {
        let server = try server(perIP: 8, timeout: 1)
        defer { server.stop() }
        let idle = try connect(server.port)
        defer { close(idle) }
        let started = ContinuousClock.now
        var buffer = [UInt8](repeating: 0, count: 16)
        let count = recv(idle, &buffer, buffer.count, 0)
        #expect(count == 0, "expected the server to close the idle connection")
        #expect(ContinuousClock.now - started < .seconds(3))
    }
}

/// A log handler that keeps the messages.
final class LogRecords: LogHandler, @unchecked Sendable {
    private let stored = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    var messages: [String] { stored.withLock { $0 } }
    subscript(metadataKey key: String) -> Logger.Metadata.Value? { get { nil } set {} }
    func log(event: LogEvent) {
        stored.withLock { $0.append("\(event.message)") }
    }
}

/// A responder whose work (offloaded) takes a while.
struct Slow: HTTPResponder {
    let milliseconds: UInt32
    func respond(to request: HTTPRequest) -> HTTPReply {
        .later { [milliseconds] in
            usleep(milliseconds * 1000)
            return .text("done")
        }
    }
}

/// A responder that always answers the same.
struct Fixed: HTTPResponder {
    let response: HTTPResponse
    init(_ response: HTTPResponse) { self.response = response }
    func respond(to request: HTTPRequest) -> HTTPReply { .now(response) }
}
