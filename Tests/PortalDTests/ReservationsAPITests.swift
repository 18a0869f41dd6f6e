import Arrivals
import Firewall
import Foundation
import Logging
import Outbox
import Store
import Testing
@testable import HTTPServer
@testable import PortalD

@Suite("admin API: reservations")
struct ReservationsAPITests {
    let api: AdminAPI
    static let token = String(repeating: "r", count: 40)

    init() throws {
        let (store, _) = try temporaryStore()
        api = try makeAdminAPI(store: store, credentials: [AdminCredential(name: "pms", secret: Array(Self.token.utf8),
                                                                             scopes: [AdminScope.reservationsRead, AdminScope.reservationsWrite])])
    }

    struct Answer {
        var status: Int
        var json: [String: Any]
        var headers: HTTPHeaders
        var error: [String: String] { (json["error"] as? [String: String]) ?? [:] }
    }

    func call(_ method: HTTPMethod, _ path: String, _ body: String? = nil, host: String = "127.0.0.1:8081") -> Answer {
        var headers = HTTPHeaders()
        headers.add("Authorization", "Bearer \(Self.token)")
        headers.add("Host", host)
        let request = HTTPRequest(method: method, target: path, headers: headers, body: Array((body ?? "").utf8), clientAddress: "127.0.0.1")
        let response = api.answer(request)
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return Answer(status: response.status, json: json, headers: response.headers)
    }

    static func body(version: Int? = nil, status: String = "confirmed", arrival: String = "2026-12-01", room: String = "214", last: String = "Müller") -> String {
        """
        {"reference": "BKG-\(last)", "status": "\(status)", "arrival": "\(arrival)", "departure": "2026-12-04", "room": "\(room)",
         "adults": 2, "children": 1, "babies": 0, "language": "de", "version": \(version.map(String.init) ?? "null"),
         "guests": [{"first_name": "Anna", "last_name": "\(last)", "email": "anna@example.com", "phone": "+49 30 1234567", "primary": true}]}
        """
    }

    @Test("PUT creates (201, link from [arrivals] public_url, never the Host), updates (200), refuses stale (409) and bad fields (422)")
    func upsert() throws {
        let created = call(.put, "/api/v1/reservations/4711", Self.body(version: 7), host: "attacker.example.net")
        #expect(created.status == 201)
        let url = try #require(created.json["checkin_url"] as? String)
        #expect(url.hasPrefix("https://checkin.example.com/arrive/") && url.count == "https://checkin.example.com/arrive/".count + 24, "\(url)")
        #expect(created.json["checkin_expires_at"] as? String == "2026-12-04T23:00:00Z")
        #expect(created.json["id"] as? String == "4711" && created.json["version"] as? Int == 7)

        let shown = call(.get, "/api/v1/reservations/4711")
        #expect(shown.status == 200 && shown.json["checkin_url"] is NSNull && (shown.json["guests"] as? [[String: Any]])?.first?["last_name"] as? String == "Müller")
        #expect(call(.put, "/api/v1/reservations/4711", Self.body(version: 7)).status == 200)
        let moved = call(.put, "/api/v1/reservations/4711", Self.body(version: 8, room: "301"))
        #expect(moved.status == 200 && moved.json["room"] as? String == "301" && moved.json["checkin_url"] is NSNull)

        let stale = call(.put, "/api/v1/reservations/4711", Self.body(version: 5, room: "999"))
        #expect(stale.status == 409 && stale.error["code"] == "stale_version", "\(stale.json)")
        #expect(stale.error["message"]?.contains("version 8") == true)
        #expect(call(.get, "/api/v1/reservations/4711").json["room"] as? String == "301", "a stale update changed nothing")

        let bad = call(.put, "/api/v1/reservations/4711", Self.body(version: 9).replacingOccurrences(of: "anna@example.com", with: "anna"))
        #expect(bad.status == 422 && bad.error["field"] == "guests[0].email" && bad.error["code"] == "invalid_field", "\(bad.json)")
        // Without a newer version to order it, an impossible move is refused (with one, it is the PMS's word).
        let transition = call(.put, "/api/v1/reservations/4711", Self.body(status: "checked_out"))
        #expect(transition.status == 422 && transition.error["field"] == "status")
        let edited = Self.body(version: 8, room: "301").replacingOccurrences(of: "\"version\"", with: "\"created_at\": \"2026-01-01T00:00:00Z\", \"checkin_url\": null, \"version\"")
        #expect(call(.put, "/api/v1/reservations/4711", edited).status == 200, "what GET shows can be PUT back")
        #expect(call(.put, "/api/v1/reservations/4711", "not json").status == 400)
        let trailingComma = call(.put, "/api/v1/reservations/4711", #"{"reference": "X",}"#)
        #expect(trailingComma.status == 400 && trailingComma.error["message"]?.contains("at byte 18") == true, "where it stops being JSON: \(trailingComma.json)")
        #expect(call(.put, "/api/v1/reservations/a%20b", Self.body()).error["field"] == "id")
        #expect(call(.get, "/api/v1/reservations/4711").json["version"] as? Int == 8, "refused writes left version 8")
    }

    @Test("what the API writes (JSONValue's writer) reads back through the Decodable the CLI uses, field for field")
    func viewsReadBack() throws {
        let created = api.answer(HTTPRequest(method: .put, target: "/api/v1/reservations/4711", headers: HTTPHeaders([("Authorization", "Bearer \(Self.token)")]),
                                             body: Array(Self.body(version: 7).utf8), clientAddress: "127.0.0.1"))
        let view = try JSON.decoder().decode(ReservationView.self, from: Data(created.body))
        #expect(view.checkinURL != nil && view.guests.first?.phone == "+49 30 1234567" && view.version == 7)
        #expect(JSON.bytes(view) == created.body, "the same bytes again: no field lost or renamed between json and CodingKeys")
        let list = ReservationListView(reservations: [view], nextCursor: "2026-12-01~4711")
        let again = try JSON.decoder().decode(ReservationListView.self, from: Data(JSON.bytes(list)))
        #expect(again.reservations == [view] && again.nextCursor == list.nextCursor)
        let guests = try JSONDecoder().decode([Reservation.Guest].self, from: JSON.encode(view.guests))
        #expect(guests == view.guests, "the stored guests column reads back")
    }

    @Test("list filters and pages by cursor; bad filters are 400 naming the parameter")
    func list() throws {
        for (index, arrival) in ["2026-12-01", "2026-12-02", "2026-12-02", "2026-12-03", "2026-12-03"].enumerated() {
            #expect(call(.put, "/api/v1/reservations/R\(index)", Self.body(arrival: arrival, last: index == 3 ? "Núñez" : "Smith")).status == 201)
        }
        var ids: [String] = []
        var path = "/api/v1/reservations?limit=2&arrival_from=2026-12-02"
        while true {
            let page = call(.get, path)
            #expect(page.status == 200)
            ids += (page.json["reservations"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            guard let cursor = page.json["next_cursor"] as? String else { break }
            path = "/api/v1/reservations?limit=2&arrival_from=2026-12-02&cursor=\(cursor)"
        }
        #expect(ids == ["R1", "R2", "R3", "R4"])
        let found = call(.get, "/api/v1/reservations?q=NUNEZ&status=confirmed,in_house")
        #expect((found.json["reservations"] as? [[String: Any]])?.map { $0["id"] as? String } == ["R3"])
        for (query, code) in [("arrival_to=tomorrow", "invalid_arrival_to"), ("status=arrived", "invalid_status"),
                              ("limit=0", "invalid_limit"), ("cursor=abc", "invalid_cursor")] {
            let answer = call(.get, "/api/v1/reservations?\(query)")
            #expect(answer.status == 400 && answer.error["code"] == code, "\(query): \(answer.json)")
        }
    }

    @Test("DELETE is 204 and idempotent, 404 for what never existed; a new link kills the old")
    func deleteAndRotate() throws {
        let first = try #require(call(.put, "/api/v1/reservations/9", Self.body()).json["checkin_url"] as? String)
        let rotated = call(.post, "/api/v1/reservations/9/checkin-link")
        let second = try #require(rotated.json["checkin_url"] as? String)
        #expect(rotated.status == 200 && second != first)
        #expect(call(.delete, "/api/v1/reservations/9").status == 204)
        #expect(call(.delete, "/api/v1/reservations/9").status == 204)
        #expect(call(.get, "/api/v1/reservations/9").status == 404)
        #expect(call(.post, "/api/v1/reservations/9/checkin-link").status == 404)
        #expect(call(.delete, "/api/v1/reservations/never").status == 404)
        #expect(call(.delete, "/api/v1/reservations/9?version=x").status == 400)
        #expect(call(.delete, "/api/v1/reservations/9?version=9007199254740992").status == 400, "beyond 2^53 − 1: no update could outrank it")
        #expect(call(.head, "/api/v1/reservations?limit=1").status == 200)
    }
}
