import Foundation
import Lab
import Testing

/// Online check-in in a real browser: Debian's headless Chromium, driven by selenium
/// (`Tests/Browser/walk_checkin.py`), at a 390×844 phone viewport with JavaScript off,
/// walks the whole check-in of two bookings in two languages (one the phone's, one
/// picked from the footer), companions included (one by an invite link claimed in a
/// second tab, one filled in by the primary guest), and a third in French on a
/// 360 px phone, the narrowest the pages are made for.
/// Every page: its language, nothing scrolling sideways, every control labelled.
@Suite("check-in in a real browser", .serialized)
struct BrowserCheckinTests {
    /// Puts a reservation arriving today through the CLI; returns its check-in link.
    func book(_ portald: Portald, id: String, language: String) throws -> String {
        let file = portald.directory.appendingPathComponent("\(id).json")
        try Data("""
            {"id": "\(id)", "reference": "BKG-\(id)", "status": "confirmed", "arrival": "\(utcDay(0))", "departure": "\(utcDay(2))",
             "room": "12", "adults": 2, "language": "\(language)", "version": 1,
             "guests": [{"first_name": "John", "last_name": "Smith", "primary": true}]}
            """.utf8).write(to: file)
        let output = try portald.cli(["reservations", "put", file.path]).stdout
        return try #require(output.components(separatedBy: "check-in link (shown once): ").last?.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test("Spanish, German and French guests check in on a phone without JavaScript: no sideways scrolling, every input labelled, done reached")
    func phoneWalk() throws {
        // Spain's profile: the most fields, and companions must register too.
        let portald = try Portald.loopback(extra: """

            [arrivals]
            registration = "es"
            """)
        try portald.start()
        defer { try? portald.stop() }
        let plan: [String: Any] = [
            "portal": String(portald.portalURL.dropLast()),
            "walks": [
                // A Spanish phone: every page in Spanish; the companion claims an invite link in a second tab.
                ["link": try book(portald, id: "B1", language: "es"), "language": "es", "accept_language": "es-ES,es",
                 "companions": 1, "invite": true, "done_heading": "Check-in completado", "wifi": "Este dispositivo está conectado al WiFi hasta"],
                // An English phone with a German booking: the browser's language first, then the guest picks Deutsch.
                ["link": try book(portald, id: "B2", language: "de"), "language": "de", "accept_language": "en-US,en", "switch_from": "en",
                 "companions": 1, "invite": false, "done_heading": "Sie sind eingecheckt", "wifi": "Dieses Gerät ist bis"],
                // The narrowest phones the pages are made for: 360 px, in French.
                ["link": try book(portald, id: "B3", language: "fr"), "language": "fr", "accept_language": "fr-FR,fr", "viewport": [360, 780],
                 "companions": 1, "invite": false, "done_heading": "Vous êtes enregistré", "wifi": "Cet appareil est connecté au WiFi jusqu"],
            ],
        ]
        let planFile = portald.directory.appendingPathComponent("plan.json")
        try JSONSerialization.data(withJSONObject: plan).write(to: planFile)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Browser/walk_checkin.py").path
        let shots = portald.directory.appendingPathComponent("screenshots").path
        let result = try Shell.run(["timeout", "240", "python3", script, planFile.path, shots], check: false)
        #expect(result.status == 0, "browser walk failed (exit \(result.status)):\n\(result.stdout)\n\(result.stderr)")
        // Every walk reached done, and each booking is in house.
        #expect(result.stdout.contains("walk 1 (es)") && result.stdout.contains("walk 2 (de)") && result.stdout.contains("walk 3 (fr)"), "\(result.stdout)")
        #expect(try portald.cli(["reservations", "show", "B1"]).stdout.contains("in_house"))
        #expect(try portald.cli(["reservations", "show", "B2"]).stdout.contains("in_house"))
        #expect(try portald.cli(["reservations", "show", "B3"]).stdout.contains("in_house"))
    }
}
