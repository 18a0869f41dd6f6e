import Foundation
import Testing
@testable import PortalD

/// The real libmicrohttpd listener on loopback, driven by curl.
@Suite("HTTP server over libmicrohttpd", .serialized)
struct HTTPServerTests {
    func withServer(maxBody: Int = 1024, perIP: Int = 32, _ body: (String) throws -> Void) throws {
        var router = Router(notFound: { _ in .json(APIError(code: "not_found", message: "nothing here"), status: 404) },
                            methodNotAllowed: { _, allowed in .text("no", status: 405) })
        router.get("/echo/:name") { request in
            .json(["name": request.parameters["name"] ?? "", "q": request.query["q"] ?? "", "client": request.clientAddress,
                   "ua": request.headers["user-agent"] ?? "", "target": request.target])
        }
        router.post("/form") { request in .text("accept=\(request.form?["accept"] ?? "-") bytes=\(request.body.count)") }
        let server = try HTTPServer(options: HTTPServerOptions(listen: ListenAddress(host: "127.0.0.1", port: 0), threads: 2,
                                                               connectionTimeoutSeconds: 5, maxConnectionsPerIP: perIP, maxBodyBytes: maxBody),
                                    handler: router.handle)
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

    @Test func bindErrorsAreClear() throws {
        try withServer { (base: String) throws in
            let port = UInt16(base.split(separator: ":").last!)!
            #expect(throws: HTTPServerError.self) {
                _ = try HTTPServer(options: HTTPServerOptions(listen: ListenAddress(host: "127.0.0.1", port: port)), handler: { _ in .text("") })
            }
        }
        #expect(throws: HTTPServerError.self) {
            _ = try HTTPServer(options: HTTPServerOptions(listen: ListenAddress(host: "not-an-ip", port: 0)), handler: { _ in .text("") })
        }
    }
}
