import Foundation
import Testing
@testable import Arrivals

@Suite("the reservation JSON: every error names its field")
struct ReservationDocumentTests {
    static let valid = """
        {"reference": "BKG-A1B2C3", "status": "confirmed", "arrival": "2026-12-01", "departure": "2026-12-04",
         "room": "214", "adults": 2, "children": 1, "babies": 0, "language": "de", "version": 7,
         "guests": [{"first_name": "Anna", "last_name": "Müller", "email": "anna@example.com", "phone": "+49 30 1234567", "primary": true},
                    {"first_name": "Ben", "last_name": "Müller", "primary": false}]}
        """

    /// `valid` with one field replaced by a JSON fragment (or removed, for nil).
    static func with(_ key: String, _ json: String?) -> [UInt8] {
        var object = try! JSONSerialization.jsonObject(with: Data(valid.utf8)) as! [String: Any]
        object[key] = json.map { try! JSONSerialization.jsonObject(with: Data($0.utf8), options: .fragmentsAllowed) }
        return Array(try! JSONSerialization.data(withJSONObject: object))
    }

    @Test("the contract's example parses to what it says")
    func valid() throws {
        let reservation = try ReservationDocument.parse(Array(Self.valid.utf8), id: "4711")
        #expect(reservation == Reservation(
            id: "4711", reference: "BKG-A1B2C3", status: .confirmed, arrival: LocalDate("2026-12-01")!, departure: LocalDate("2026-12-04")!,
            room: "214", adults: 2, children: 1, babies: 0, language: "de",
            guests: [.init(firstName: "Anna", lastName: "Müller", email: "anna@example.com", phone: "+49 30 1234567", primary: true),
                     .init(firstName: "Ben", lastName: "Müller", primary: false)], version: 7))
    }

    @Test("bad data is refused with the field named", arguments: [
        ("reference", nil, "reference"), ("reference", #""""#, "reference"), ("status", #""arrived""#, "status"),
        ("arrival", #""2026-02-30""#, "arrival"), ("arrival", #""01.12.2026""#, "arrival"), ("departure", #""2026-11-30""#, "departure"),
        ("adults", "0", "adults"), ("adults", "2.5", "adults"), ("adults", #""2""#, "adults"), ("children", "-1", "children"),
        ("babies", "100", "babies"), ("language", #""Deutsch!""#, "language"), ("room", #""""#, "room"), ("version", "-3", "version"),
        ("colour", #""red""#, "colour"), ("id", #""4712""#, "id"), ("guests", "[]", "guests"), ("guests", #""Anna""#, "guests"),
        ("guests", #"[{"last_name": "A", "primary": true}, {"last_name": "B", "primary": true}]"#, "guests"),
        ("guests", #"[{"last_name": "A"}]"#, "guests"),
        ("guests", #"[{"last_name": "A", "primary": true}, {"last_name": " "}]"#, "guests[1].last_name"),
        ("guests", #"[{"last_name": "A", "primary": true, "email": "not-an-email"}]"#, "guests[0].email"),
        ("guests", #"[{"last_name": "A", "primary": true, "phone": "call me"}]"#, "guests[0].phone"),
        ("guests", #"[{"last_name": "A", "primary": "yes"}]"#, "guests[0].primary"),
        ("guests", #"[{"last_name": "A", "primary": true, "age": 3}]"#, "guests[0].age"),
        ("reference", #""BKG\u0007""#, "reference"),
    ] as [(String, String?, String)])
    func invalid(key: String, json: String?, field: String) {
        do {
            let parsed = try ReservationDocument.parse(Self.with(key, json), id: "4711")
            Issue.record("\(key) = \(json ?? "absent") was accepted: \(parsed)")
        } catch {
            guard case .invalid(let named, let message) = error else {
                Issue.record("\(key) = \(json ?? "absent"): \(error)")
                return
            }
            #expect(named == field, "\(key) = \(json ?? "absent"): \(message)")
            #expect(!message.isEmpty)
        }
    }

    @Test("not an object is malformed; a bad id in the path names id")
    func malformed() {
        for body in ["", "[]", "{", "\"x\"", "null"] {
            do {
                _ = try ReservationDocument.parse(Array(body.utf8), id: "1")
                Issue.record("\(body) was accepted")
            } catch {
                guard case .malformed = error else { Issue.record("\(body): \(error)"); continue }
            }
        }
        #expect(throws: ReservationError.invalid(field: "id", message: "\"a b\" is not a reservation id (1 to 64 letters, digits, '.', '_', ':' or '-')")) {
            try ReservationDocument.parse(Array(Self.valid.utf8), id: "a b")
        }
    }

    @Test("local dates: leap years, order, the end of a day across DST")
    func localDates() throws {
        #expect(LocalDate("2028-02-29") != nil && LocalDate("2027-02-29") == nil && LocalDate("2100-02-29") == nil && LocalDate("2000-02-29") != nil)
        #expect(LocalDate("+026-01-01") == nil && LocalDate("2026-1-01") == nil && LocalDate("2026-13-01") == nil)
        #expect(LocalDate("2026-12-31")! < LocalDate("2027-01-01")! && LocalDate("2026-12-31")!.description == "2026-12-31")
        let madrid = TimeZone(identifier: "Europe/Madrid")!
        // 2026-03-29 is 23 hours long in Madrid: it ends at 22:00 UTC, not 23:00.
        #expect(LocalDate("2026-03-29")!.end(in: madrid) == Date(timeIntervalSince1970: 1_774_821_600))
        #expect(LocalDate(Date(timeIntervalSince1970: 1_774_821_599), in: madrid) == LocalDate("2026-03-29"))
    }
}


@Suite("text shapes (hand-written, replacing regexes)")
struct TextShapesTests {
    @Test func shapes() {
        #expect(["de", "pt-BR", "zh-Hant-TW", "gsw"].allSatisfy(TextShapes.isLanguageTag))
        #expect(!["d", "deutsch", "de-", "de-B", "de_DE", "", "de-toolongsub"].contains(where: TextShapes.isLanguageTag))
        #expect(["anna@example.com", "a.b+c@mail.example.co.uk"].allSatisfy(TextShapes.isEmail))
        #expect(!["anna", "@example.com", "anna@example", "anna@.com", "anna@example.", "an na@example.com", "a@b@c.d"].contains(where: TextShapes.isEmail))
        #expect(["+49 30 1234567", "030 123-45/6", "123"].allSatisfy(TextShapes.isPhone))
        #expect(!["call me", "+", "12", "+ 49", "49x", String(repeating: "1", count: 33)].contains(where: TextShapes.isPhone))
        #expect(["4711", "A-12", "pms:88.1_x"].allSatisfy { TextShapes.isReservationID(Substring($0)) })
        #expect(!["", "-1", "a b", "é", String(repeating: "x", count: 65)].contains { TextShapes.isReservationID(Substring($0)) })
    }
}
