import Arrivals
import Crypto
import Foundation
import GRDB
import Lab
import Outbox
import Store
import Testing
@testable import HTTPServer
@testable import PortalD

/// `POST /api/v1/reservations/{id}/arrive` with `Idempotency-Key` (IETF draft): the same
/// key and body get the kept answer, another body 422, a key still in flight 409; the
/// reservation arrives once whatever the keys.
@Suite("admin API: arrive with Idempotency-Key")
struct AdminArriveTests {
    let api: AdminAPI
    let store: Store
    let checkins: Checkins
    let reservations: Reservations
    static let token = String(repeating: "a", count: 40)
    static let deskToken = String(repeating: "d", count: 40)

    init() throws {
        let (store, _) = try temporaryStore()
        self.store = store
        let outbox = Outbox(siteID: "h", endpoints: [try WebhookEndpoint(
            id: "pms", url: URL(string: "http://192.0.2.99/hook")!,
            secrets: [WebhookSecret("whsec_" + Data(repeating: 7, count: 24).base64EncodedString())], topics: ["arrival.*"])])
        let zone = TimeZone(identifier: "Europe/Madrid")!
        checkins = Checkins(store: store, outbox: outbox, profile: RegistrationProfile.named("basic")!, timeZone: zone)
        reservations = testReservations(store)
        api = try makeAdminAPI(store: store, credentials: [AdminCredential(name: "pms", secret: Array(Self.token.utf8), scopes: [AdminScope.reservationsWrite]),
                                                           AdminCredential(name: "desk", secret: Array(Self.deskToken.utf8),
                                                                           scopes: [AdminScope.reservationsWrite, AdminScope.personalDataRead, AdminScope.personalDataWrite])],
                               outbox: outbox, checkins: checkins)
        // Arriving today (the site's), whenever the test runs.
        let today = LocalDate(Date(), in: zone)
        for id in ["R1", "R2"] {
            try reservations.put(Reservation(id: id, reference: "BKG-\(id)", status: .confirmed, arrival: today, departure: today.adding(days: 3),
                                             adults: 1, guests: [.init(firstName: "Anna", lastName: "Müller", primary: true)]), source: "test")
        }
    }

    /// What the guest does online: confirm, details, terms.
    func completeCheckin(_ id: String) throws {
        let reservation = try #require(try reservations.get(id: id)).reservation
        try checkins.confirm(reservationID: id)
        try checkins.save(GuestDetails([.firstName: "Anna", .lastName: "Müller"]), position: 0, of: reservation)
        try checkins.sign(TermsSignature(name: "Anna Müller", signedAt: Date(), clientAddress: "192.0.2.10", userAgent: "t", language: "en",
                                         termsVersion: "1", termsSHA256: String(repeating: "a", count: 64), marketing: false), of: reservation)
    }

    func arrive(_ id: String, key: String?, body: String = "", token: String = Self.token) -> HTTPResponse {
        var headers = HTTPHeaders([("Authorization", "Bearer \(token)"), ("Host", "127.0.0.1:8081")])
        if let key { headers.add("Idempotency-Key", key) }
        return api.answer(HTTPRequest(method: .post, target: "/api/v1/reservations/\(id)/arrive", headers: headers, body: Array(body.utf8),
                                      clientAddress: "127.0.0.1"))
    }

    func json(_ response: HTTPResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    func code(_ response: HTTPResponse) -> String? { (json(response)["error"] as? [String: Any])?["code"] as? String }

    func arrivedEvents() throws -> [[String: Any]] {
        try store.pool.read { db in try Data.fetchAll(db, sql: "SELECT body FROM outbox_event WHERE event = 'arrival.arrived'") }
            .compactMap { (try? JSONSerialization.jsonObject(with: $0) as? [String: Any])?["data"] as? [String: Any] }
    }

    @Test("the key is required and checked; an incomplete check-in is refused (422, listing what) and that answer is kept for its key")
    func keyAndRefusals() throws {
        #expect(code(arrive("R1", key: nil)) == "idempotency_key_missing")
        #expect(code(arrive("R1", key: "schlüssel")) == "invalid_idempotency_key")
        #expect(code(arrive("R1", key: "k", body: #"{"force": true}"#)) == "invalid_field")
        #expect(code(arrive("R1", key: "k", body: "{,}")) == "invalid_json")
        let incomplete = arrive("R1", key: "k1")
        #expect(incomplete.status == 422 && code(incomplete) == "checkin_incomplete")
        let message = (json(incomplete)["error"] as? [String: Any])?["message"] as? String ?? ""
        #expect(message.contains("not confirmed") && message.contains("first_name, last_name") && message.contains("terms"), "\(message)")
        try completeCheckin("R1")
        let replayed = arrive("R1", key: "\"k1\"")
        #expect(replayed.status == 422 && replayed.body == incomplete.body && replayed.headers["idempotent-replayed"] == "true",
                "the same key (as an sf-string too) gets the kept answer, though the check-in is complete now")
        #expect(code(arrive("nope", key: "k2")) == "not_found")
        try reservations.put(Reservation(id: "nope", reference: "BKG-N", status: .cancelled, arrival: LocalDate("2026-12-01")!, departure: LocalDate("2026-12-04")!,
                                         adults: 1, guests: [.init(firstName: "A", lastName: "B", primary: true)]), source: "test")
        #expect(code(arrive("nope", key: "k2")) == "not_arrivable", "a 404 is not kept: the key works once the reservation exists")
        #expect(try arrivedEvents().isEmpty)
    }

    @Test("arrives once: the same key and body replays the answer, another body is 422, another key answers the first arrival; one event")
    func once() throws {
        try completeCheckin("R1")
        let first = arrive("R1", key: "8e03978e-40d5-43e8-bc93-6894a57f9324")
        #expect(first.status == 200, "\(String(decoding: first.body, as: UTF8.self))")
        let answer = json(first)
        #expect(answer["status"] as? String == "in_house" && answer["changed"] as? Bool == true && answer["via"] as? String == "api:pms")
        let again = arrive("R1", key: "8e03978e-40d5-43e8-bc93-6894a57f9324")
        #expect(again.status == 200 && again.body == first.body && again.headers["idempotent-replayed"] == "true")
        #expect(again.headers["cache-control"] == "no-store" && first.headers["cache-control"] == "no-store")
        #expect(arrive("R1", key: "8e03978e-40d5-43e8-bc93-6894a57f9324", body: "{}").body == first.body, "{} is the empty body")
        try completeCheckin("R2")
        #expect(code(arrive("R2", key: "8e03978e-40d5-43e8-bc93-6894a57f9324")) == "idempotency_key_reused", "one key, another request")
        #expect(try reservations.get(id: "R2")?.reservation.status == .confirmed)
        let desk = arrive("R1", key: "8e03978e-40d5-43e8-bc93-6894a57f9324", token: Self.deskToken)
        #expect(desk.status == 200 && desk.headers["idempotent-replayed"] == nil && json(desk)["changed"] as? Bool == false,
                "keys are per token: the desk's is its own request")
        let other = json(arrive("R1", key: "another"))
        #expect(other["changed"] as? Bool == false && other["idempotency_key"] as? String == "8e03978e-40d5-43e8-bc93-6894a57f9324"
                && other["arrived_at"] as? String == answer["arrived_at"] as? String)
        let events = try arrivedEvents()
        #expect(events.count == 1 && events.first?["idempotency_key"] as? String == "8e03978e-40d5-43e8-bc93-6894a57f9324"
                && events.first?["via"] as? String == "api:pms")
        #expect(try reservations.get(id: "R1")?.reservation.status == .inHouse)
    }

    @Test("a key whose first request is still being answered gets 409, until a restart frees it; answers are kept 24 hours")
    func inFlight() throws {
        let fingerprint = Data(Crypto.sha256(Array("POST /reservations/R1/arrive {}".utf8)))
        try store.pool.write { db in
            try db.execute(sql: "INSERT INTO idempotency_key(scope, key, fingerprint, created_at) VALUES ('token:pms', 'busy', ?, ?)",
                           arguments: [fingerprint, Date()])
            for (key, hours) in [("old", 25.0), ("recent", 23.0)] {
                try db.execute(sql: "INSERT INTO idempotency_key(scope, key, fingerprint, response_status, response_body, created_at) VALUES ('token:pms', ?, ?, 418, x'7b7d', ?)",
                               arguments: [key, fingerprint, Date().addingTimeInterval(-hours * 3600)])
            }
        }
        #expect(code(arrive("R1", key: "busy")) == "idempotency_key_in_flight")
        #expect(arrive("R1", key: "recent").status == 418, "23 hours old: still the kept answer")
        #expect(code(arrive("R1", key: "old")) == "checkin_incomplete", "25 hours old: forgotten, the request runs anew")
        try IdempotencyKeys(store: store).forgetUnfinished()  // what the daemon does at start
        #expect(code(arrive("R1", key: "busy")) == "checkin_incomplete")
    }

    @Test("20 concurrent arrives, with one key or with twenty: one in_house, one event")
    func concurrent() throws {
        try completeCheckin("R1")
        try completeCheckin("R2")
        for (id, sameKey) in [("R1", true), ("R2", false)] {
            let answers = together(20) { index in
                let response = arrive(id, key: sameKey ? "same" : "key-\(index)")
                return Answer(status: response.status, replayed: response.headers["idempotent-replayed"] != nil, body: response.body,
                              changed: json(response)["changed"] as? Bool)
            }
            #expect(answers.allSatisfy { $0.status == 200 || (sameKey && $0.status == 409) }, "\(answers.map(\.status))")
            #expect(answers.filter { $0.changed == true && !$0.replayed }.count == 1, "one arrival did it")
            if sameKey {
                let ran = answers.filter { $0.status == 200 && !$0.replayed }
                #expect(ran.count == 1, "the key ran its request once; the rest were replays or in flight")
                #expect(Set(answers.filter { $0.status == 200 }.map(\.body)).count == 1, "every 200 is the same answer")
            }
            #expect(try reservations.get(id: id)?.reservation.status == .inHouse)
        }
        #expect(try arrivedEvents().count == 2, "one for each reservation")
    }

    func call(_ method: HTTPMethod, _ path: String, token: String = Self.deskToken) -> HTTPResponse {
        api.answer(HTTPRequest(method: method, target: path, headers: HTTPHeaders([("Authorization", "Bearer \(token)"), ("Host", "127.0.0.1:8081")]),
                               body: [], clientAddress: "127.0.0.1"))
    }

    @Test("personal data: the export holds the reservation, the check-in details and the signature; erase leaves nothing to export")
    func exportAndErase() throws {
        try completeCheckin("R1")
        #expect(call(.get, "/api/v1/reservations/R1/personal-data", token: Self.token).status == 403, "a reservations token cannot read it")
        #expect(call(.delete, "/api/v1/reservations/R1/personal-data", token: Self.token).status == 403, "nor erase it")
        let exported = call(.get, "/api/v1/reservations/R1/personal-data")
        #expect(exported.status == 200)
        let data = json(exported)
        let checkin = try #require(data["checkin"] as? [String: Any])
        let guests = try #require(checkin["guests"] as? [[String: Any]])
        #expect((data["reservation"] as? [String: Any])?["id"] as? String == "R1" && data["exported_at"] is String)
        #expect((guests.first?["details"] as? [String: String]) == ["first_name": "Anna", "last_name": "Müller"] && checkin["confirmed_at"] is String)
        #expect((checkin["terms_signature"] as? [String: Any])?["client_address"] as? String == "192.0.2.10")
        #expect(call(.delete, "/api/v1/reservations/R1/personal-data").status == 204)
        #expect(code(call(.delete, "/api/v1/reservations/R1/personal-data")) == "not_found", "nothing left")
        #expect(code(call(.get, "/api/v1/reservations/R1/personal-data")) == "not_found", "nothing to export")
        #expect(try checkins.progress(reservationID: "R1") == Checkins.Progress() && reservations.get(id: "R1") == nil)
    }

    struct Answer: Sendable {
        let status: Int
        let replayed: Bool
        let body: [UInt8]
        let changed: Bool?
    }
}
