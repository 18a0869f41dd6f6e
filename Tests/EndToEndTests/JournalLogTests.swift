import Foundation
import Testing
import Lab

/// The daemon's own log as the journal gets it, from a real daemon.
@Suite("the log, as the journal reads it", .serialized)
struct JournalLogTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    @Test("under the journal: a priority and logfmt on every line, MACs hashed with hash_macs, no secret or token anywhere")
    func journalLines() throws {
        let receiver = try WebhookReceiver(secrets: [Self.secret], plan: ["/hooks": [500]])
        let adminToken = String(repeating: "t", count: 40)
        let portald = try Portald.loopback(admin: """
            [[admin.tokens]]
            name = "pms"
            token = "\(adminToken)"
            scopes = ["clients:read"]
            """, extra: """
            [privacy]
            hash_macs = true

            [webhooks]
            retry_delays = ["1h"]

            [[webhooks.endpoints]]
            id = "cloud"
            url = "\(receiver.url("/hooks"))"
            secret = "\(Self.secret)"
            topics = ["wifi.*"]
            """)
        // JOURNAL_STREAM names the log file itself: portald takes its stderr for the journal.
        FileManager.default.createFile(atPath: portald.logPath, contents: nil)
        let stream = try Shell.run(["stat", "-c", "%d:%i", portald.logPath]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try portald.start(environment: ["JOURNAL_STREAM": stream])
        defer { try? portald.stop() }
        let mac = "02:00:00:00:00:31"
        try portald.cli(["auth", mac, "--ip", "192.0.2.31"])
        // A wrong token and a right one: neither may be logged.
        _ = try Shell.run(["curl", "-s", "-H", "Authorization: Bearer \(String(repeating: "w", count: 40))", "http://127.0.0.1:\(portald.adminPort)/api/v1/clients"])
        _ = try Shell.run(["curl", "-s", "-H", "Authorization: Bearer \(adminToken)", "http://127.0.0.1:\(portald.adminPort)/api/v1/clients"])
        try portald.cli(["deauth", mac])
        _ = try receiver.waitFor("a failed attempt") { $0.count >= 1 }
        try waitUntil("the failure is logged") { portald.log.contains("msg=\"webhook attempt failed\"") }
        try portald.stop()

        let log = portald.log
        let lines = log.split(separator: "\n")
        #expect(lines.count >= 6)
        for line in lines {
            #expect(line.wholeMatch(of: /<[2-7]>level=(trace|debug|info|notice|warning|error|critical) msg=("([^"\\]|\\.)*"|\S+)( [A-Za-z0-9_.]+=("([^"\\]|\\.)*"|\S+))*/) != nil,
                    "not one logfmt event: \(line)")
        }
        #expect(log.contains("<6>level=info msg=\"session started\""))
        #expect(log.contains("<4>level=warning msg=\"webhook attempt failed\""))
        // The MAC never appears; its hash is the same in the session's start and end.
        #expect(!log.contains(mac), "\(log)")
        let started = try #require(lines.first { $0.contains("msg=\"session started\"") })
        let ended = try #require(lines.first { $0.contains("msg=\"session ended\"") })
        let hash = try #require(started.firstMatch(of: /mac=(mac~[0-9a-f]{10})/)?.output.1)
        #expect(ended.contains("mac=\(hash)"))
        // No secret, no token: neither the webhook's, nor an admin token (right or wrong), nor the local CLI's.
        let cliToken = try String(contentsOf: portald.directory.appendingPathComponent("admin.token"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        for secret in [Self.secret, String(Self.secret.dropFirst(6)), adminToken, String(repeating: "w", count: 40), cliToken] {
            #expect(!log.contains(secret), "a secret in the log")
        }
    }
}
