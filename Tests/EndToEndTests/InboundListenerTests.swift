import Foundation
import Lab
import Testing

/// `[inbound_listener]`: the PMS reaches `/api/v1/inbound/…` on its own listener (the one
/// the hotel's reverse proxy exposes), and nothing else of the admin API is there.
@Suite("inbound: its own listener on a real daemon", .serialized)
struct InboundListenerTests {
    @Test("a signed GUEST delivery on the inbound listener is stored; admin routes are not on that listener")
    func separateListener() throws {
        let inboundPort = LoopbackPorts.next()
        let key = "guest-shared-secret-0123456789"
        let portald = try Portald.loopback(extra: """

            [inbound_listener]
            listen = "127.0.0.1:\(inboundPort)"

            [[inbound]]
            id = "pms"
            format = "guest"
            auth = "signature"
            secret = "\(key)"
            [inbound.status_map]
            7 = "in_house"
            """)
        try portald.start()
        defer { try? portald.stop() }
        let body = #"[{"reservation_id": 81, "reference": "G-81", "arrivalDate": "2026-12-01", "exitDate": "2026-12-02", "rsvStatus": 7, "roomId": 12, "responsible": "Anna Müller", "ad": 1}]"#
        let signature = try Shell.run(["python3", "-c", "import hmac, hashlib, sys; print('sha256=' + hmac.new(sys.argv[1].encode(), sys.argv[2].encode(), hashlib.sha256).hexdigest())",
                                       key, body]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        func post(_ signature: String) throws -> String {
            try Shell.run(["curl", "-s", "--max-time", "5", "-w", " %{http_code}", "-H", "Content-Type: application/json", "-H", "UpdateType: Insert",
                           "-H", "X-Signature: \(signature)", "--data-binary", body, "http://127.0.0.1:\(inboundPort)/api/v1/inbound/pms"]).stdout
        }
        let stored = try post(signature)
        #expect(stored.hasSuffix(" 200") && stored.contains("\"result\":\"created\""), "\(stored)")
        #expect(try post(signature).contains("\"result\":\"duplicate\""))
        #expect(try post("sha256=00").hasSuffix(" 401"))
        #expect(portald.log.contains("inbound delivery refused") && !portald.log.contains("Anna"), "the log names the source, never the body")
        let shown = try portald.cli(["reservations", "show", "81"]).stdout
        #expect(shown.contains("in_house") && shown.contains("room 12") && shown.contains("* Anna Müller"), "\(shown)")
        let admin = try Shell.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                                   "http://127.0.0.1:\(inboundPort)/api/v1/reservations"]).stdout
        #expect(admin == "404", "the admin API is not exposed on the inbound listener")
    }
}
