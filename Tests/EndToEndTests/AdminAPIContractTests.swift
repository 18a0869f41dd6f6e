import Foundation
import Testing
import Lab

/// The admin API against its own OpenAPI document, checked by an independent tool
/// (schemathesis) on a real daemon: every documented status, schema and limit, and
/// the behaviour a caller guessing tokens meets.
@Suite("admin API contract on a real daemon", .serialized)
struct AdminAPIContractTests {
    func token(_ portald: Portald) throws -> String {
        try String(contentsOfFile: portald.directory.appendingPathComponent("admin.token").path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func curl(_ arguments: [String]) throws -> (status: Int, body: String) {
        let output = try Shell.run(["curl", "-s", "--max-time", "5", "-w", "\n%{http_code}"] + arguments).stdout
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    @Test("schemathesis finds no mismatch between the document and the API (bounded: fixed seed, 25 examples an operation)")
    func schemathesis() throws {
        // Schemathesis tries a wrong token on every operation: more than the default 10 a minute
        // (the throttle has its own test below).
        let portald = try Portald.loopback(admin: "failed_auth_per_minute = 1000")
        try portald.start()
        defer { try? portald.stop() }
        let document = "http://127.0.0.1:\(portald.adminPort)/api/v1/openapi.json"
        // Through python3 (as installed by scripts/install-deps), whatever PATH holds.
        // From the instance's scratch directory: schemathesis leaves .schemathesis/ and .hypothesis/ where it runs.
        // A URL the pattern lets through may still not parse (422), and a PATCH needs the ETag of
        // an endpoint schemathesis cannot know (412; 428 for an If-Match of only spaces).
        // A reservation's cross-field rules (departure not before arrival, one primary guest, the body's id
        // equal to the path's, possible status moves) are beyond what OpenAPI 3.0 can say: a schema-valid
        // body may break one, and the documented answer is 422 naming the field.
        try Data("""
            [[operations]]
            include-path = "/api/v1/reservations/{id}"
            include-method = "PUT"
            checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]

            [[operations]]
            include-path = "/api/v1/reservations/{id}/arrive"
            # A reservation the PUT fuzzing made has no online check-in yet: 422 checkin_incomplete, documented.
            checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]

            [[operations]]
            include-path = "/api/v1/clients/{mac}/auth"
            # A tier is any string to the document; which exist is the site's config (422 invalid_tier).
            checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]

            [[operations]]
            include-path-regex = "^/api/v1/webhook-endpoints"
            checks.positive_data_acceptance.expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "412", "422", "428", "429"]
            # Without the required If-Match: 428, or 409 first for an endpoint from the config file.
            checks.missing_required_header.expected-statuses = ["409", "428"]
            # A stale If-Match is answered 412 before the body is read (RFC 9110 13.2.1), whatever the body.
            checks.negative_data_rejection.expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "412", "415", "422", "428", "429"]
            """.utf8).write(to: portald.directory.appendingPathComponent("schemathesis.toml"))
        let cli = ["sh", "-c", "cd \"$0\" && exec python3 -c 'import sys; from schemathesis.cli import schemathesis; sys.argv[0] = \"schemathesis\"; schemathesis()' \"$@\"",
                   portald.directory.path]
        let result = try Shell.run(cli + ["run", document, "-H", "Authorization: Bearer \(try token(portald))",
                                    "--max-examples", "25", "--seed", "20261123", "--request-timeout", "5",
                                    "--phases", "examples,coverage,fuzzing", "--no-color"], check: false)
        #expect(result.status == 0, "schemathesis:\n\(result.stdout.suffix(8000))\n\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains("Tested: 36"), "\(result.stdout.suffix(2000))")
        // Its wrong-token checks stayed under the throttle: no operation "passed" on 429s alone.
        #expect(!portald.log.contains("refusing it with 429"))
    }

    @Test("wrong tokens: logged, and after 10 from one address a minute, 429 with Retry-After even for an operator's right one; the local CLI still works")
    func guessingIsThrottled() throws {
        let operatorToken = String(repeating: "k", count: 40)
        let portald = try Portald.loopback(extra: """

            [[admin.tokens]]
            name = "pms"
            token = "\(operatorToken)"
            scopes = ["clients:read"]
            """)
        try portald.start()
        defer { try? portald.stop() }
        let clients = "http://127.0.0.1:\(portald.adminPort)/api/v1/clients"
        for attempt in 1...10 {
            #expect(try curl(["-H", "Authorization: Bearer guess-\(attempt)", clients]).status == 401)
        }
        let blocked = try Shell.run(["curl", "-s", "-i", "--max-time", "5", "-H", "Authorization: Bearer \(operatorToken)", clients]).stdout
        #expect(blocked.hasPrefix("HTTP/1.1 429"), "\(blocked)")
        #expect(blocked.lowercased().contains("retry-after: "))
        #expect(blocked.contains("too_many_failures"))
        #expect(portald.log.components(separatedBy: "admin API: authentication failed").count - 1 == 10)
        #expect(portald.log.contains("10 failed authentications from one address"))
        // The guest portal and the open routes are not behind the throttle, and neither is the CLI's
        // own 256-bit token: a local user flooding loopback cannot lock `portald clients` out.
        #expect(try curl(["http://127.0.0.1:\(portald.adminPort)/api/v1/health"]).status == 200)
        let cli = try portald.cli(["clients"])
        #expect(cli.status == 0, "\(cli.stderr)")
    }

    @Test("a 403 names the missing scope, not the token")
    func forbiddenDoesNotEchoTheTokenName() throws {
        let secret = String(repeating: "r", count: 40)
        let portald = try Portald.loopback(extra: """

            [[admin.tokens]]
            name = "front-desk-tablet"
            token = "\(secret)"
            scopes = ["clients:read"]
            """)
        try portald.start()
        defer { try? portald.stop() }
        let answer = try curl(["-X", "POST", "-H", "Authorization: Bearer \(secret)",
                               "http://127.0.0.1:\(portald.adminPort)/api/v1/clients/02:00:00:00:00:10/deauth"])
        #expect(answer.status == 403)
        #expect(answer.body.contains("lacks the scope clients:write"))
        #expect(!answer.body.contains("front-desk-tablet"))
    }
}
