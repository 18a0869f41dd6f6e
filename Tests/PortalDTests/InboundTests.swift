import Arrivals
import Crypto
import Firewall
import Foundation
import Lab
import Logging
import Outbox
import Store
import Testing
@testable import HTTPServer
@testable import PortalD

/// Reservations pushed by the PMS (GUEST's list format) and by the hotel's cloud
/// (Standard Webhooks, signed by the independent `standardwebhooks` package).
@Suite("inbound: GUEST and standard webhooks")
struct InboundTests {
    let api: AdminAPI
    let records = LogRecords()
    static let guestKey = "guest-shared-secret-0123456789"
    static let bearer = String(repeating: "b", count: 40)
    static let whsec = "whsec_" + Data(repeating: 42, count: 24).base64EncodedString()

    init() throws {
        let (store, _) = try temporaryStore()
        let records = self.records
        api = try makeAdminAPI(
                       store: store, credentials: [AdminCredential(name: "local-cli", secret: Array("local".utf8), scopes: [AdminScope.all])],
                       inbound: InboundController(
                           sources: [InboundSource(id: "pms", format: .guest, authentication: .bodySignature(key: Array(Self.guestKey.utf8))),
                                     InboundSource(id: "pms-token", format: .guest, authentication: .bearer(token: Array(Self.bearer.utf8)),
                                                   versionField: "version"),
                                     InboundSource(id: "cloud", format: .standard, authentication: .standardWebhooks([try WebhookSecret(Self.whsec)]))],
                           repository: testReservations(store), throttle: AuthFailureThrottle(limit: 4, label: "inbound", logger: Logger(label: "t") { _ in records }),
                           logger: Logger(label: "t") { _ in records }, timeZone: TimeZone(identifier: "Europe/Madrid")!, now: { Date() }),
                       logger: Logger(label: "t") { _ in records })
    }

    func send(_ source: String, _ body: String, headers: [(String, String)]) -> (status: Int, json: [String: Any]) {
        var fields = HTTPHeaders()
        for (name, value) in headers { fields.add(name, value) }
        let request = HTTPRequest(method: .post, target: "/api/v1/inbound/\(source)", headers: fields, body: Array(body.utf8), clientAddress: "198.51.100.7")
        let response = api.answer(request)
        return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:])
    }

    func guest(_ body: String, type: String? = "Update", key: String = guestKey) -> (status: Int, json: [String: Any]) {
        var headers = [("X-Signature", WebhookSigner.bodySignature(body: Array(body.utf8), key: Array(key.utf8)))]
        if let type { headers.append(("UpdateType", type)) }
        return send("pms", body, headers: headers)
    }

    /// A REST call with the local token.
    func call(_ method: HTTPMethod, _ path: String, _ body: String = "") -> Int {
        var headers = HTTPHeaders()
        headers.add("Authorization", "Bearer local")
        return api.answer(HTTPRequest(method: method, target: path, headers: headers, body: Array(body.utf8))).status
    }

    func reservation(_ id: String) -> [String: Any]? {
        var headers = HTTPHeaders()
        headers.add("Authorization", "Bearer local")
        guard case .later(let work) = api.respond(to: HTTPRequest(method: .get, target: "/api/v1/reservations/\(id)", headers: headers)) else { return nil }
        let response = work()
        return response.status == 200 ? (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] : nil
    }

    static func dto(id: Int = 4711, status: Int = 1, room: Any = 214, responsible: String = "Müller, Anna", exit: String = "2026-12-04",
                    version: Int? = nil) -> String {
        let roomJSON = room is String ? "\"\(room)\"" : "\(room)"
        return """
            {"reservation_id": \(id), "reference": "G-\(id)", "arrivalDate": "2026-12-01T00:00:00", "exitDate": "\(exit)", "rsvStatus": \(status),
             "roomId": \(roomJSON), "responsible": "\(responsible)", "ad": 2, "jr": 1, "ch": 1, "bb": 1, "company": null\(version.map { ", \"version\": \($0)" } ?? "")}
            """
    }

    @Test("GUEST Insert, Update with [new, previous], a replayed delivery, Delete")
    func guestLifecycle() throws {
        let inserted = guest("[\(Self.dto())]", type: "Insert")
        #expect(inserted.status == 200 && inserted.json["result"] as? String == "created" && inserted.json["reservation_id"] as? String == "4711", "\(inserted.json)")
        let stored = try #require(reservation("4711"))
        #expect(stored["arrival"] as? String == "2026-12-01" && stored["room"] as? String == "214" && stored["status"] as? String == "confirmed")
        #expect(stored["adults"] as? Int == 2 && stored["children"] as? Int == 2 && stored["babies"] as? Int == 1)
        let primary = try #require((stored["guests"] as? [[String: Any]])?.first)
        #expect(primary["last_name"] as? String == "Müller" && primary["first_name"] as? String == "Anna" && primary["primary"] as? Bool == true)

        let update = "[\(Self.dto(status: 2, room: "A-12", exit: "2026-12-05")), \(Self.dto())]"
        #expect(guest(update).json["result"] as? String == "updated")
        #expect(reservation("4711")?["room"] as? String == "A-12" && reservation("4711")?["status"] as? String == "in_house")
        // Replayed (GUEST retried): nothing changes, even after a later change from elsewhere.
        #expect(guest("[\(Self.dto(status: 3, room: "A-12", exit: "2026-12-05"))]").json["result"] as? String == "updated")
        let replay = guest(update)
        #expect(replay.status == 200 && replay.json["result"] as? String == "duplicate")
        #expect(reservation("4711")?["status"] as? String == "checked_out", "the replay did not roll the stay back")

        #expect(guest("[\(Self.dto(status: 3))]", type: "Delete").json["result"] as? String == "deleted")
        #expect(reservation("4711") == nil)
        #expect(guest("[\(Self.dto(id: 99))]", type: "Delete").json["result"] as? String == "unknown")
    }

    @Test("a bad signature is 401, logged with the source and never the body; nothing changes")
    func badSignature() throws {
        let body = "[\(Self.dto(responsible: "Secret, Person"))]"
        #expect(guest(body, key: "another-secret-0123456789").status == 401)
        #expect(send("pms", body, headers: [("UpdateType", "Insert")]).status == 401)
        #expect(reservation("4711") == nil)
        let line = try #require(records.lines.first { $0.contains("inbound delivery refused") })
        #expect(line.contains("pms") && line.contains("198.51.100.7") && !line.contains("Secret"), "\(line)")
        #expect(send("nope", body, headers: []).status == 404)
        #expect(send("pms-token", body, headers: [("Authorization", "Bearer wrong")]).status == 401)
        #expect(send("pms-token", body, headers: [("Authorization", "Bearer \(Self.bearer)"), ("UpdateType", "Insert")]).json["result"] as? String == "created")
        // Four failures from this address (the test's limit): more bad ones get 429, yet the
        // PMS's own, correctly signed deliveries from the same address (a reverse proxy) pass.
        #expect(guest(body, key: "another-secret-0123456789").status == 401)
        #expect(guest(body, key: "another-secret-0123456789").status == 429)
        #expect(guest("[\(Self.dto(id: 5))]", type: "Insert").json["result"] as? String == "created")
    }

    @Test("malformed lists are 400 with the reason; bad fields 422 naming GUEST's field; nothing changes", arguments: [
        ("{}", "a JSON list"), ("[]", "one or two"), ("[1]", "one or two"), ("[{}, {}, {}]", "one or two"),
        ("[{\"reservation_id\": 1}]", "rsvStatus"), ("not json", "a JSON list"), ("[{\"ad\": 1, \"ad\": 2}]", "\"ad\" given twice"),
    ])
    func malformed(body: String, reason: String) throws {
        let answer = guest(body)
        #expect(answer.status == 400, "\(body): \(answer)")
        #expect(((answer.json["error"] as? [String: Any])?["message"] as? String)?.contains(reason) == true, "\(body): \(answer.json)")
    }

    @Test("the PMS's word: status jumps without a version, a null reference, a date-time in UTC, Delete with [new, previous]")
    func pmsEdgeCases() throws {
        #expect(guest("[\(Self.dto())]").json["result"] as? String == "created")
        #expect(guest("[\(Self.dto(status: 3)), \(Self.dto())]").json["result"] as? String == "updated", "confirmed → checked_out from the PMS")
        #expect(reservation("4711")?["status"] as? String == "checked_out")
        let utc = Self.dto(id: 12).replacingOccurrences(of: "\"reference\": \"G-12\"", with: "\"reference\": null")
            .replacingOccurrences(of: "2026-12-01T00:00:00", with: "2026-11-30T23:30:00Z")
        #expect(guest("[\(utc)]").json["result"] as? String == "created")
        #expect(reservation("12")?["reference"] as? String == "12" && reservation("12")?["arrival"] as? String == "2026-12-01",
                "23:30Z on 30 Nov is 1 Dec in Madrid; a null reference falls back to the id")
        #expect(guest("[\(Self.dto()), \(Self.dto(status: 3))]", type: "Delete").json["result"] as? String == "deleted")
        #expect(guest("[\(Self.dto(id: 13)), 1]").status == 400, "the second item must be a DTO too")
        let junk = Self.dto(id: 14).replacingOccurrences(of: "\"reservation_id\": 14", with: "\"reservation_id\": \"a b\"")
        #expect(guest("[\(junk)]", type: "Delete").status == 422, "a delete's id is checked like any other")
    }

    @Test("bad values name GUEST's fields")
    func badValues() throws {
        func error(_ answer: (status: Int, json: [String: Any])) -> [String: Any] { answer.json["error"] as? [String: Any] ?? [:] }
        #expect((error(guest("[\(Self.dto(status: 9))]"))["message"] as? String)?.contains("rsvStatus 9 is not in the source's status_map") == true)
        let early = guest("[\(Self.dto(exit: "2026-11-01"))]")
        #expect(early.status == 422 && error(early)["field"] as? String == "exitDate", "\(early.json)")
        #expect(guest("[\(Self.dto(exit: "04.12.2026"))]").status == 400)
        #expect(guest("[\(Self.dto())]", type: "Upsert").status == 400)
        #expect(reservation("4711") == nil)
    }

    @Test("GUEST with a version field: an older delivery is answered 200 stale and ignored")
    func guestVersions() throws {
        let auth = [("Authorization", "Bearer \(Self.bearer)")]
        #expect(send("pms-token", "[\(Self.dto(room: 301, version: 5))]", headers: auth).json["result"] as? String == "created")
        let stale = send("pms-token", "[\(Self.dto(room: 999, version: 4))]", headers: auth)
        #expect(stale.status == 200 && stale.json["result"] as? String == "stale")
        #expect(reservation("4711")?["room"] as? String == "301")
    }

    /// Standard Webhooks headers made by the independent `standardwebhooks` package.
    func signed(_ body: String, id: String, secret: String = whsec, age: TimeInterval = 0) throws -> [(String, String)] {
        let timestamp = Int(Date().timeIntervalSince1970 - age)
        let script = """
            import sys, datetime
            from standardwebhooks import Webhook
            at = datetime.datetime.fromtimestamp(int(sys.argv[3]), tz=datetime.timezone.utc)
            print(Webhook(sys.argv[1]).sign(sys.argv[2], at, sys.stdin.read()))
            """
        let file = Scratch.directory.appendingPathComponent("body-\(UUID()).json")
        try Data(body.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let signature = try Shell.run(["sh", "-c", "exec python3 -c \"$0\" \"$1\" \"$2\" \"$3\" < \"$4\"", script, secret, id, String(timestamp), file.path])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        return [("webhook-id", id), ("webhook-timestamp", String(timestamp)), ("webhook-signature", signature)]
    }

    @Test("standard: signed by the standardwebhooks package → applied; same webhook-id → duplicate; old timestamp or other key → 401")
    func standard() throws {
        let body = """
            {"id": "evt-1", "event": "reservation.upserted", "created_at": "2026-11-23T10:00:00Z", "data": {"id": "R-9", "reference": "BKG-9",
             "status": "confirmed", "arrival": "2026-12-01", "departure": "2026-12-03", "adults": 1, "version": 3,
             "guests": [{"first_name": "Ana", "last_name": "Núñez", "primary": true}]}}
            """
        let applied = send("cloud", body, headers: try signed(body, id: "msg_1"))
        #expect(applied.status == 200 && applied.json["result"] as? String == "created", "\(applied.json)")
        #expect(send("cloud", body, headers: try signed(body, id: "msg_1")).json["result"] as? String == "duplicate")
        #expect(send("cloud", body, headers: try signed(body, id: "msg_2", age: 600)).status == 401)
        #expect(send("cloud", body, headers: try signed(body, id: "msg_2b", age: -600)).status == 401, "a timestamp 10 minutes ahead")
        #expect(send("cloud", body.replacingOccurrences(of: "BKG-9", with: "BKG-0"), headers: try signed(body, id: "msg_2c")).status == 401,
                "a changed body under valid headers")
        #expect(send("cloud", body, headers: try signed(body, id: "msg_3", secret: "whsec_" + Data(repeating: 1, count: 24).base64EncodedString())).status == 401)
        let deleted = #"{"id": "evt-2", "event": "reservation.deleted", "created_at": "2026-11-23T10:01:00Z", "data": {"id": "R-9", "version": 4}}"#
        #expect(send("cloud", deleted, headers: try signed(deleted, id: "msg_4")).json["result"] as? String == "deleted")
        #expect(reservation("R-9") == nil)
        let unknown = #"{"id": "evt-3", "event": "reservation.moved", "created_at": "2026-11-23T10:01:00Z", "data": {"id": "R-9"}}"#
        #expect(send("cloud", unknown, headers: try signed(unknown, id: "msg_5")).status == 400)
    }
}

/// The three ways a reservation changes (REST PUT, REST DELETE, GUEST deliveries) mixed
/// and shuffled: the stored state is the latest version's, whichever way it came.
@Suite("property: REST and GUEST updates in any order end at the latest version")
struct MixedSourcesPropertyTests {
    @Test("40 shuffled histories over the router")
    func latestWins() throws {
        let firstSeed = UInt64.random(in: 0...UInt64.max)
        var random = SplitMix64(seed: firstSeed)  // printed on failure, to replay a history
        for round in 0..<40 {
            let tests = try InboundTests()
            let guestCodes = [1: "confirmed", 2: "in_house", 3: "checked_out", 4: "cancelled", 5: "no_show"]
            var operations: [(version: Int, kind: Int, status: Int)] = []
            for version in Array(1...10).shuffled(using: &random).prefix(Int.random(in: 1...8, using: &random)) {
                operations.append((version, Int.random(in: 0..<4, using: &random), Int.random(in: 1...5, using: &random)))
            }
            for operation in operations.shuffled(using: &random) {
                let (version, kind, code) = operation
                switch kind {
                case 0:  // REST PUT
                    let body = ReservationsAPITests.body(version: version, status: guestCodes[code]!, room: "r\(version)")
                    _ = tests.call(.put, "/api/v1/reservations/4711", body)
                case 1:  // REST DELETE
                    _ = tests.call(.delete, "/api/v1/reservations/4711?version=\(version)")
                case 2:  // GUEST update
                    _ = tests.send("pms-token", "[\(InboundTests.dto(status: code, room: "r\(version)", version: version))]",
                                   headers: [("Authorization", "Bearer \(InboundTests.bearer)"), ("UpdateType", "Update")])
                default:  // GUEST delete
                    _ = tests.send("pms-token", "[\(InboundTests.dto(status: code, version: version))]",
                                   headers: [("Authorization", "Bearer \(InboundTests.bearer)"), ("UpdateType", "Delete")])
                }
            }
            let latest = operations.max { $0.version < $1.version }!
            let stored = tests.reservation("4711")
            if latest.kind % 2 == 1 {
                #expect(stored == nil, "round \(round) (seed \(firstSeed)): \(operations) should end deleted")
            } else {
                #expect(stored?["room"] as? String == "r\(latest.version)" && stored?["version"] as? Int == latest.version
                        && stored?["status"] as? String == guestCodes[latest.status]!, "round \(round) (seed \(firstSeed)): \(operations) → \(String(describing: stored))")
            }
        }
    }
}

