import Arrivals
import Foundation
import HTTPServer
import Outbox

/// What the reservations resource needs (`Reservations` in the daemon, over SQLite).
protocol ReservationRepository: InboundRepository {
    func put(_ reservation: Reservation, source: String) throws -> (StoredReservation, Reservations.Outcome)
    func get(id: String) throws -> StoredReservation?
    func delete(id: String, version: Int64?, source: String) throws -> Bool
    func list(_ query: ReservationQuery) throws -> ReservationPage
    func rotateLink(id: String) throws -> StoredReservation
}

extension Reservations: ReservationRepository {}

extension ReservationError: HTTPErrorConvertible {
    public var httpError: HTTPError {
        switch self {
        case .malformed(let message): HTTPError.badRequest("invalid_json", message)
        case .invalid(let field, let message): HTTPError.invalidField(field, message)
        case .stale: HTTPError(409, code: "stale_version", message: description)
        case .notFound: HTTPError.notFound(description)
        }
    }
}

/// `/api/v1/reservations…`: the hotel's systems push reservations; IT's scripts list them.
struct ReservationsController {
    let repository: any ReservationRepository
    let checkins: Checkins
    let keys: IdempotencyKeys

    func addRoutes(to api: DocumentedRoutes) {
        let read = api.scoped(AdminScope.reservationsRead)
        read.get("/reservations", APIOperation(summary: "Reservations by arrival date, then id; a page at a time", query: [
            ("arrival_from", AdminSchemas.date, "arrival on or after this date (site's local date)"),
            ("arrival_to", AdminSchemas.date, "arrival on or before this date"),
            ("status", AdminSchemas.statusList, "only these statuses (comma-separated)"),
            ("q", AdminSchemas.string, "words in the reference, room or guests' names, emails or phones (case and accents ignored)"),
            ("limit", ["type": "integer", "minimum": 1, "maximum": .number(Double(ReservationQuery.limits.upperBound))], "page size (default 50)"),
            ("cursor", ["type": "string", "pattern": .string(ReservationQuery.Cursor.pattern)], "the previous page's next_cursor"),
        ], responses: [200: ("a page", "ReservationList"), 400: ("a bad filter or cursor", "Error")])) { request, _ in
            let page = try repository.list(try Self.query(request.query))
            return .json(ReservationListView(reservations: page.reservations.map(ReservationView.init), nextCursor: page.next?.text))
        }
        read.get("/reservations/{id}", APIOperation(summary: "One reservation (its check-in link is shown only when made)", responses: [
            200: ("reservation", "Reservation"), 404: ("no such reservation", "Error"),
        ])) { _, context in
            let id = try context.parameters.require("id")
            guard let stored = try repository.get(id: id) else { throw ReservationError.notFound(id: id) }
            return .json(ReservationView(stored))
        }

        let write = api.scoped(AdminScope.reservationsWrite)
        write.put("/reservations/{id}", APIOperation(
            summary: "Create or update a reservation (an older version than stored is refused, 409)",
            body: AdminSchemas.ref("ReservationInput"), bodyRequired: true, responses: [
                201: ("created; checkin_url is the new check-in link, shown this once", "Reservation"),
                200: ("updated, or unchanged", "Reservation"), 400: ("not a JSON object", "Error"),
                409: ("older than the stored version: nothing changed", "Error"), 422: ("a field is wrong; error.field names it", "Error"),
            ])) { request, context in
            let id = try context.parameters.require("id")
            let reservation = try ReservationDocument.parse(request.body, id: id)
            let (stored, outcome) = try repository.put(reservation, source: Self.source(context))
            return .json(ReservationView(stored), status: outcome == .created ? 201 : 200)
        }
        write.delete("/reservations/{id}", APIOperation(
            summary: "Delete a reservation (idempotent; with version, an older one than stored is refused)",
            query: [("version", ["type": "integer", "minimum": 0, "maximum": .number(Double(ReservationDocument.maximumVersion))],
                     "the source's version of this deletion (or an RFC 3339 time)")],
            responses: [204: ("deleted, or already deleted", nil), 400: ("bad version", "Error"), 404: ("no such reservation", "Error"),
                        409: ("older than the stored version: nothing changed", "Error")])) { request, context in
            let version = try request.query["version"].map { text -> Int64 in
                // The same reading as a body's version: a number up to 2^53 − 1, or an RFC 3339 time.
                guard let version = try? ReservationDocument.version(.string(text), field: "version") ?? nil else {
                    throw HTTPError.badRequest("invalid_version", "version must be a whole number from 0 to \(ReservationDocument.maximumVersion), or an RFC 3339 time")
                }
                return version
            }
            _ = try repository.delete(id: try context.parameters.require("id"), version: version, source: Self.source(context))
            return HTTPResponse(status: 204)
        }
        write.post("/reservations/{id}/checkin-link", APIOperation(
            summary: "Make a new check-in link; the old one stops working at once", responses: [
                200: ("the reservation, with checkin_url shown this once", "Reservation"), 404: ("no such reservation", "Error"),
            ])) { _, context in
            .json(ReservationView(try repository.rotateLink(id: try context.parameters.require("id"))))
        }
        write.post("/reservations/{id}/arrive", APIOperation(
            summary: "Check the guest in (to in_house) once, when online check-in is complete; a repeat answers the first arrival",
            body: ["type": "object", "additionalProperties": false, "properties": [:], "description": "empty, or {}"],
            headers: [("Idempotency-Key", true, "any unique text (a UUID): the same key again gets the same answer; with another body, 422")],
            responses: [
                200: ("arrived, now or before (changed says which)", "Arrival"),
                400: ("no or a bad Idempotency-Key, or a body that is not JSON", "Error"), 404: ("no such reservation", "Error"),
                409: ("too early, the stay is over, not a confirmed reservation, or the key's first request still running", "Error"),
                422: ("check-in incomplete (the message lists what), the key used for another request, or a member in the body", "Error"),
            ])) { request, context in
            let id = try context.parameters.require("id")
            let key = try IdempotencyKeys.key(from: request.headers["idempotency-key"])
            // Nothing to say yet: any member is unknown (422 naming it).
            if !request.body.isEmpty { _ = try RequestFields(request.body, allowed: [], shape: "empty or {}") }
            let caller = context.credential?.name ?? "?"
            // A token's keys name its requests: the same key on another reservation is another
            // payload (422). An empty body and {} are the same request.
            return try keys.once(scope: "token:\(caller)", key: key, payload: Array("POST /reservations/\(id)/arrive {}".utf8)) {
                do {
                    return .json(ArrivalView(id: id, try checkins.arrive(reservationID: id, key: key, via: "api:" + caller)))
                } catch Checkins.ArrivalRefusal.notFound {
                    throw ReservationError.notFound(id: id)
                } catch let refusal as Checkins.ArrivalRefusal {
                    return .plainJSON(refusal.httpError)
                }
            }
        }
    }

    /// Who wrote a version: the token's name, for `portald reservations show` and the log.
    static func source(_ context: AdminContext) -> String { "api:" + (context.credential?.name ?? "?") }

    static func query(_ form: FormData) throws -> ReservationQuery {
        var query = ReservationQuery()
        func date(_ name: String) throws -> LocalDate? {
            try form[name].map { text in
                guard let date = LocalDate(text) else { throw HTTPError.badRequest("invalid_\(name)", "\(name): \"\(text)\" is not a date like 2026-12-01") }
                return date
            }
        }
        query.arrivalFrom = try date("arrival_from")
        query.arrivalTo = try date("arrival_to")
        if let text = form["status"] {
            for name in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let status = Reservation.Status(rawValue: String(name)) else {
                    throw HTTPError.badRequest("invalid_status", "status: \"\(name)\" is not one of \(Reservation.Status.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                query.statuses.insert(status)
            }
        }
        query.text = form["q"]
        if let text = form["limit"] {
            guard let limit = Int(text), ReservationQuery.limits.contains(limit) else {
                throw HTTPError.badRequest("invalid_limit", "limit must be between 1 and \(ReservationQuery.limits.upperBound)")
            }
            query.limit = limit
        }
        if let text = form["cursor"] {
            guard let cursor = ReservationQuery.Cursor(text) else {
                throw HTTPError.badRequest("invalid_cursor", "cursor: \"\(text)\" is not a next_cursor (<arrival>~<id>)")
            }
            query.after = cursor
        }
        return query
    }
}

/// The answer to an arrive: what happened, and when.
struct ArrivalView: Encodable {
    let reservationID: String
    let arrival: Checkins.Arrival

    init(id: String, _ arrival: Checkins.Arrival) {
        reservationID = id
        self.arrival = arrival
    }

    enum CodingKeys: String, CodingKey {
        case reservationID = "reservation_id", status, arrivedAt = "arrived_at", via, idempotencyKey = "idempotency_key", changed
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(reservationID, forKey: .reservationID)
        try container.encode(arrival.status.rawValue, forKey: .status)
        try container.encode(arrival.arrivedAt, forKey: .arrivedAt)
        try container.encode(arrival.via, forKey: .via)
        try container.encode(arrival.idempotencyKey, forKey: .idempotencyKey)  // null when none
        try container.encode(arrival.changed, forKey: .changed)
    }
}

extension Checkins.ArrivalRefusal: HTTPErrorConvertible {
    public var httpError: HTTPError {
        switch self {
        case .tooEarly(let opens):
            HTTPError(409, code: "too_early", message: "check-in opens on \(opens) (the arrival day, less [arrivals] early_arrival_days)")
        case .notArrivable(let status): HTTPError(409, code: "not_arrivable", message: "a reservation that is \(status.rawValue) cannot arrive")
        case .stayOver: HTTPError(409, code: "stay_over", message: "the departure day has come: the stay is over")
        case .incomplete(let missing):
            HTTPError(422, code: "checkin_incomplete", message: "online check-in is incomplete: " + [
                missing.confirmation ? "the booking is not confirmed by the guest" : nil,
                missing.details.isEmpty ? nil : "details missing: " + missing.details.map(\.rawValue).joined(separator: ", "),
                missing.companions.isEmpty ? nil : "companions' details missing: guests " + missing.companions.map { String($0 + 1) }.joined(separator: ", ") + " (the primary guest is 1)",
                missing.terms ? "the terms are not signed" : nil,
            ].compactMap { $0 }.joined(separator: "; "))
        case .notFound: HTTPError.notFound("no such reservation")
        }
    }
}
