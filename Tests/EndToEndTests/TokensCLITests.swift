import Foundation
import Lab
import Testing

/// `portald tokens …` against a real daemon, and the tokens it makes used over HTTP
/// the way an integration would (curl, keep-alive off): scopes, rate limit, revocation.
@Suite("CLI: API tokens", .serialized)
struct TokensCLITests {
    func curl(_ portald: Portald, _ token: String, _ path: String) throws -> (status: Int, headers: String) {
        let output = try Shell.run(["curl", "-s", "-D", "-", "-o", "/dev/null", "--max-time", "5", "-H", "Authorization: Bearer \(token)",
                                    "http://127.0.0.1:\(portald.adminPort)\(path)"]).stdout
        let status = output.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, output.lowercased())
    }

    @Test("create prints the secret once; it works with its scopes only; the 61st request a minute is 429; revoke → 401")
    func lifecycle() throws {
        let portald = try Portald.loopback()
        try portald.start()
        defer { try? portald.stop() }
        let created = try portald.cli(["tokens", "create", "--name", "pms", "--scope", "reservations:read", "--expires", "90d"])
        let secret = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(secret.hasPrefix("pdt_") && !secret.contains("\n"), "\(created.stdout)")
        #expect(created.stderr.contains("shown once"))
        let badScope = try portald.cli(["tokens", "create", "--name", "x", "--scope", "reservation:read"], check: false)
        #expect(badScope.status != 0 && badScope.stderr.contains("--scope reservation:read: unknown scope"), "\(badScope.stderr)")
        let taken = try portald.cli(["tokens", "create", "--name", "pms", "--scope", "*"], check: false)
        #expect(taken.status == 1 && taken.stderr.contains("a token named pms exists"), "\(taken.stderr)")

        let listed = try portald.cli(["tokens", "list"]).stdout
        #expect(listed.contains("pms") && listed.contains("reservations:read") && listed.contains("local-cli") && !listed.contains(secret), "\(listed)")

        let first = try curl(portald, secret, "/api/v1/reservations")
        #expect(first.status == 200 && first.headers.contains("x-ratelimit-limit: 60") && first.headers.contains("x-ratelimit-remaining: 59"), "\(first.headers)")
        #expect(try curl(portald, secret, "/api/v1/clients").status == 403)
        for _ in 3...60 { _ = try curl(portald, secret, "/api/v1/reservations") }
        let refused = try curl(portald, secret, "/api/v1/reservations")
        #expect(refused.status == 429 && refused.headers.contains("retry-after: ") && refused.headers.contains("x-ratelimit-remaining: 0"), "\(refused.headers)")

        #expect(try portald.cli(["tokens", "revoke", "pms"]).stdout.contains("revoked token pms"))
        #expect(try curl(portald, secret, "/api/v1/reservations").status == 401)
        let again = try portald.cli(["tokens", "revoke", "pms"], check: false)
        #expect(again.status == 1 && again.stderr.contains("no token pms"))
    }
}
