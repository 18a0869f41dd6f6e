import Foundation
import Testing
import Lab
#if canImport(Glibc)
import Glibc
#endif

/// The outbox's promise under crashes: portald is SIGKILLed again and again while
/// sessions are being created and the receiver is slow; once restarted for good,
/// every session reaches the receiver with exactly one event id (repeats only of
/// that id), and no event arrives for a session that does not exist.
@Suite("outbox under SIGKILL", .serialized)
struct OutboxCrashTests {
    @Test func killLoopLosesNothing() throws {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let receiver = try WebhookReceiver(secrets: [secret], sleepMilliseconds: 40)
        let portald = try Portald.loopback(extra: """
            [webhooks]
            retry_delays = ["1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s", "1s"]
            [[webhooks.endpoints]]
            id = "cloud"
            url = "\(receiver.url("/hooks"))"
            secret = "\(secret)"
            topics = ["wifi.session.started"]
            """)
        defer { try? portald.stop() }
        let tokenFile = portald.directory.appendingPathComponent("admin.token").path

        for round in 0..<6 {
            try portald.start()
            let token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            // Sessions are created as fast as curl can go, until portald dies under it.
            let creator = try spawnProcess(["bash", "-c", """
                for k in $(seq 0 199); do
                  mac=$(printf '02:00:00:%02x:%02x:%02x' \(round) $((k / 256)) $((k % 256)))
                  curl -s -o /dev/null --max-time 2 -X POST -H 'Authorization: Bearer \(token)' \
                    -d "{\\"ipv4\\": \\"192.0.2.$((k % 250 + 2))\\"}" http://127.0.0.1:\(portald.adminPort)/api/v1/clients/$mac/auth || exit 0
                done
                """])
            usleep(UInt32.random(in: 300_000...900_000))
            try portald.kill()
            creator.waitUntilExit()
        }

        try portald.start()
        try waitUntil("the outbox drains", timeout: .seconds(90)) {
            try portald.cli(["outbox", "stats", "--json"]).stdout.contains(#""pending":0"#)
        }
        let stored = try Shell.run(["python3", "-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            print("\\n".join(r[0] for r in db.execute("SELECT id FROM session")))
            """, portald.databasePath]).stdout.split(separator: "\n").map(String.init)
        let received = receiver.deliveries().filter { $0.event == "wifi.session.started" }
        var idsBySession: [String: Set<String>] = [:]
        for delivery in received {
            #expect(delivery.verified)
            idsBySession[delivery.data?["session_id"]?.string ?? "?", default: []].insert(delivery.id ?? "?")
        }
        #expect(stored.count > 50, "too few sessions were created to mean anything: \(stored.count)")
        #expect(Set(stored) == Set(idsBySession.keys), "missing: \(Set(stored).subtracting(idsBySession.keys).count), unknown: \(Set(idsBySession.keys).subtracting(stored).count)")
        #expect(idsBySession.values.allSatisfy { $0.count == 1 }, "a session reached the receiver under two different event ids")
        let duplicates = received.count - idsBySession.count
        print("crash test: \(stored.count) sessions, \(received.count) deliveries (\(duplicates) repeated with the same id)")
    }
}
