import Foundation
import Testing
import Lab

/// What an operator reads from the CLI (issue 7, items 13 and 14), against a real daemon
/// on loopback with one webhook endpoint (so every change is in the outbox).
@Suite("CLI texts and answers", .serialized)
struct CLITests {
    static let mac = "02:00:00:00:00:10"

    func start() throws -> Portald {
        let portald = try Portald.loopback(extra: """

            [[webhooks.endpoints]]
            id = "crm"
            url = "http://127.0.0.1:9/hook"
            secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
            topics = ["*"]
            """)
        try portald.start()
        return portald
    }

    @Test("auth's errors name the flags an operator typed, not API fields")
    func authErrorsNameFlags() throws {
        let portald = try start()
        defer { try? portald.stop() }
        let noAddress = try portald.cli(["auth", Self.mac], check: false)
        #expect(noAddress.status == 1)
        #expect(noAddress.stderr.contains("give its address with --ip"), "\(noAddress.stderr)")
        #expect(!noAddress.stderr.contains("\"ipv4\""))
        let negative = try portald.cli(["auth", Self.mac, "--ip", "192.0.2.10", "--minutes", "-5"], check: false)
        #expect(negative.status != 0)
        #expect(negative.stderr.contains("--minutes must be between 1 and 527040"), "\(negative.stderr)")
        #expect(!negative.stderr.contains("missing value"))
        let badAddress = try portald.cli(["auth", Self.mac, "--ip", "+192.0.2.10"], check: false)
        #expect(badAddress.status != 0)
        #expect(badAddress.stderr.contains("--ip"), "\(badAddress.stderr)")
        let linkLocal = try portald.cli(["auth", Self.mac, "--ip", "fe80::10"], check: false)
        #expect(linkLocal.status == 1 && linkLocal.stderr.contains("--ip: ") && linkLocal.stderr.contains("not a global or unique-local IPv6 address"), "\(linkLocal.stderr)")
        let gold = try portald.cli(["auth", Self.mac, "--ip", "192.0.2.10", "--tier", "gold"], check: false)
        #expect(gold.status == 1 && gold.stderr.contains("--tier: ") && gold.stderr.contains("none are configured"), "\(gold.stderr)")
        let both = try portald.cli(["auth", Self.mac, "--tier", "gold", "--no-tier"], check: false)
        #expect(both.status != 0 && both.stderr.contains("give --tier or --no-tier, not both"), "\(both.stderr)")
        #expect(try portald.cli(["clients"]).stdout.contains("no devices online"))
        let ipv6 = try portald.cli(["auth", Self.mac, "--ip", "2001:db8:1::10", "--no-tier"])
        #expect(ipv6.stdout.contains("authorized \(Self.mac) (2001:db8:1::10)"), "\(ipv6.stdout)")
    }

    @Test("a deauth answers the session it ended, with no time left")
    func deauthShowsNoTimeLeft() throws {
        let portald = try start()
        defer { try? portald.stop() }
        try portald.cli(["auth", Self.mac, "--ip", "192.0.2.10"])
        let ended = try portald.cli(["deauth", Self.mac, "--json"]).stdout
        let session = try #require(try JSONSerialization.jsonObject(with: Data(ended.utf8)) as? [String: Any])
        #expect(session["seconds_remaining"] as? Int == 0, "\(ended)")
        #expect(session["mac"] as? String == Self.mac)
    }

    @Test("outbox show prints the exact bytes sent, which the signatures cover")
    func outboxShowPrintsTheExactBody() throws {
        let portald = try start()
        defer { try? portald.stop() }
        try portald.cli(["auth", Self.mac, "--ip", "192.0.2.10"])
        let stored = try Shell.run(["python3", "-c", """
            import sqlite3, sys
            row = sqlite3.connect(sys.argv[1]).execute("SELECT id, body FROM outbox_event WHERE event = 'wifi.session.started'").fetchone()
            sys.stdout.write(row[0] + "\\n" + bytes(row[1]).decode())
            """, portald.databasePath]).stdout
        let id = String(stored.prefix { $0 != "\n" }), body = String(stored.drop { $0 != "\n" }.dropFirst())
        #expect(body.hasPrefix("{") && body.contains("wifi.session.started"))
        let shown = try portald.cli(["outbox", "show", id]).stdout
        // The body is printed as one line, byte for byte (not re-encoded, not pretty-printed).
        #expect(shown.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == body || $0.hasSuffix(body) }, "\(shown)")
    }
}
