import Foundation
import Lab
import Testing

/// `portald reservations …` against a real daemon (libmicrohttpd, SQLite): what IT's
/// scripts do, and what they read when something is wrong.
@Suite("CLI: reservations", .serialized)
struct ReservationsCLITests {
    static func file(_ json: String) throws -> String {
        let url = Scratch.directory.appendingPathComponent("reservation-\(UUID()).json")
        try Data(json.utf8).write(to: url)
        return url.path
    }

    static func reservation(id: String, version: Int, email: String = "anna@example.com", last: String = "Müller", arrival: String = "2026-12-01") -> String {
        """
        {"id": "\(id)", "reference": "BKG-\(id)", "status": "confirmed", "arrival": "\(arrival)", "departure": "2026-12-04",
         "room": "214", "adults": 2, "language": "de", "version": \(version),
         "guests": [{"first_name": "Anna", "last_name": "\(last)", "email": "\(email)", "primary": true}]}
        """
    }

    @Test("put, list, show, new-link, delete; errors name the field or flag and exit 1")
    func lifecycle() throws {
        let portald = try Portald.loopback(extra: """

            [arrivals]
            public_url = "https://checkin.example.com/h1"
            """)
        try portald.start()
        defer { try? portald.stop() }

        let created = try portald.cli(["reservations", "put", try Self.file(Self.reservation(id: "4711", version: 3))]).stdout
        #expect(created.contains("created reservation 4711"), "\(created)")
        #expect(created.contains("check-in link (shown once): https://checkin.example.com/h1/arrive/"), "\(created)")
        try portald.cli(["reservations", "put", try Self.file(Self.reservation(id: "4712", version: 1, last: "Núñez", arrival: "2026-12-02"))])

        let stale = try portald.cli(["reservations", "put", try Self.file(Self.reservation(id: "4711", version: 2))], check: false)
        #expect(stale.status == 1 && stale.stderr.contains("version 2 is older"), "\(stale.stderr)")
        let invalid = try portald.cli(["reservations", "put", try Self.file(Self.reservation(id: "4711", version: 4, email: "anna"))], check: false)
        #expect(invalid.status == 1 && invalid.stderr.contains("guests[0].email"), "\(invalid.stderr)")
        let unreadable = try portald.cli(["reservations", "put", "/nonexistent.json"], check: false)
        #expect(unreadable.status == 1 && unreadable.stderr.contains("/nonexistent.json"))

        let table = try portald.cli(["reservations", "list"]).stdout
        #expect(table.contains("4711") && table.contains("4712") && table.contains("Anna Müller"), "\(table)")
        let found = try portald.cli(["reservations", "list", "-s", "nunez", "--json"]).stdout
        let list = try #require(try JSONSerialization.jsonObject(with: Data(found.utf8)) as? [String: Any])
        #expect((list["reservations"] as? [[String: Any]])?.map { $0["id"] as? String } == ["4712"], "\(found)")
        let badDate = try portald.cli(["reservations", "list", "--from", "yesterday"], check: false)
        #expect(badDate.status == 1 && badDate.stderr.contains("--from"), "\(badDate.stderr)")

        let shown = try portald.cli(["reservations", "show", "4711"]).stdout
        #expect(shown.contains("BKG-4711") && shown.contains("* Anna Müller (anna@example.com)"), "\(shown)")
        let link = try portald.cli(["reservations", "new-link", "4711"]).stdout
        #expect(link.hasPrefix("https://checkin.example.com/h1/arrive/") && link.contains("valid until 2026-12-05T00:00:00Z"), "\(link): the end of the departure day in the site's zone (UTC here)")

        let exported = try portald.cli(["reservations", "export", "4712"]).stdout
        let data = try #require(try JSONSerialization.jsonObject(with: Data(exported.utf8)) as? [String: Any], "\(exported)")
        #expect((data["reservation"] as? [String: Any])?["reference"] as? String == "BKG-4712" && data["checkin"] is [String: Any])
        #expect(try portald.cli(["reservations", "erase", "4712"]).stdout.contains("erased the personal data of reservation 4712"))
        let erased = try portald.cli(["reservations", "export", "4712"], check: false)
        #expect(erased.status == 1 && erased.stderr.contains("no reservation 4712"), "\(erased.stderr)")
        #expect(try portald.cli(["reservations", "erase", "4712"], check: false).status == 1, "nothing left to erase")

        #expect(try portald.cli(["reservations", "delete", "4711"]).stdout.contains("deleted reservation 4711"))
        let gone = try portald.cli(["reservations", "show", "4711"], check: false)
        #expect(gone.status == 1 && gone.stderr.contains("no reservation 4711"), "\(gone.stderr)")
        #expect(try portald.cli(["reservations", "list"]).stdout.contains("4711") == false)
    }
}
