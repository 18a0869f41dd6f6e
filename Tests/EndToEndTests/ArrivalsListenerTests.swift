import Foundation
import Lab
import Testing

/// `[arrivals] listen`: online check-in on a listener of its own (the one the hotel's
/// reverse proxy exposes), with nothing of the portal there, on a real daemon.
@Suite("check-in: its own listener on a real daemon", .serialized)
struct ArrivalsListenerTests {
    @Test("the check-in link opens on the arrivals listener; the portal's pages are not there; the token is not logged")
    func separateListener() throws {
        let port = LoopbackPorts.next()
        let portald = try Portald.loopback(extra: """

            [arrivals]
            public_url = "https://checkin.example.com"
            listen = "127.0.0.1:\(port)"
            trusted_proxies = ["127.0.0.1"]
            """)
        try portald.start()
        defer { try? portald.stop() }
        let file = portald.directory.appendingPathComponent("r.json")
        try Data("""
            {"id": "L1", "reference": "BKG-L1", "status": "confirmed", "arrival": "2026-12-01", "departure": "2099-12-04", "adults": 1, "version": 1,
             "guests": [{"first_name": "Anna", "last_name": "Müller", "primary": true}]}
            """.utf8).write(to: file)
        let put = try portald.cli(["reservations", "put", file.path]).stdout
        let token = try #require(put.components(separatedBy: "https://checkin.example.com/arrive/").last?.trimmingCharacters(in: .whitespacesAndNewlines))
        func get(_ path: String, _ headers: [String] = []) throws -> (status: String, body: String) {
            let output = try Shell.run(["curl", "-s", "--max-time", "5", "-w", "\n%{http_code} %{redirect_url}"] + headers.flatMap { ["-H", $0] }
                                       + ["http://127.0.0.1:\(port)\(path)"]).stdout
            let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
            return (String(lines.last ?? ""), lines.dropLast().joined(separator: "\n"))
        }
        let welcome = try get("/arrive/\(token)", ["X-Forwarded-For: 203.0.113.7", "Accept-Language: de"])
        #expect(welcome.status.hasPrefix("200") && welcome.body.contains("BKG-L1") && welcome.body.contains("lang=\"de\""), "\(welcome)")
        #expect(try get("/").status.hasPrefix("303") && (try get("/").status.hasSuffix("/arrive")))
        #expect(try get("/api/captive").status.hasPrefix("404"), "the portal's API is not on the arrivals listener")
        #expect(try get("/arrive/not-a-real-link-at-all-xx").status.hasPrefix("404"))
        // Wrong links count against the guest the proxy names, not against the proxy.
        for _ in 0..<10 { _ = try get("/arrive/not-a-real-link-at-all-xx", ["X-Forwarded-For: 203.0.113.8"]) }
        #expect(try get("/arrive/not-a-real-link-at-all-xx", ["X-Forwarded-For: 203.0.113.8"]).status.hasPrefix("429"))
        #expect(try get("/arrive/\(token)", ["X-Forwarded-For: 203.0.113.9"]).status.hasPrefix("200"), "another guest behind the proxy")
        #expect(portald.log.contains("203.0.113.8"), "the throttle names the forwarded guest")
        #expect(!portald.log.contains(token), "a check-in link's token in the log")
    }
}
