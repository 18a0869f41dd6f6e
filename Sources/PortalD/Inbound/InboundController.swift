import Arrivals
import Crypto
import Foundation
import HTTPServer
import Logging
import Outbox

/// What the inbound route needs: one change applied with its delivery's receipt.
protocol InboundRepository: Sendable {
    func apply(_ change: ReservationChange, source: String, key: String) throws -> Reservations.InboundOutcome
}

extension Reservations: InboundRepository {}

/// `POST /api/v1/inbound/{source_id}`: reservations pushed by the PMS or the hotel's
/// cloud. Each source proves itself (its own signature or token, not an admin token);
/// a delivery seen before answers 200 and changes nothing; a stale one answers 200
/// and says so, because a sender retries anything else.
struct InboundController {
    let sources: [InboundSource]
    let repository: any InboundRepository
    let throttle: AuthFailureThrottle
    let logger: Logger
    /// The site's zone: a GUEST date-time with an offset is taken as the site's day.
    let timeZone: TimeZone
    let now: @Sendable () -> Date

    func addRoutes(to api: DocumentedRoutes) {
        api.post("/inbound/{source_id}", APIOperation(
            summary: "Reservations pushed by a configured source ([[inbound]]): GUEST's ReservationsUpdateDTO list, or portald's envelope signed as Standard Webhooks",
            body: ["description": "format = \"guest\": a list of ReservationsUpdateDTO, header UpdateType; format = \"standard\": {id, event, created_at, data}"],
            headers: [
                ("UpdateType", false, "guest: Insert, Update or Delete"),
                ("X-Signature", false, "guest with auth = \"signature\": sha256=<hex HMAC-SHA256 of the body>"),
                ("webhook-id", false, "standard: the delivery's id (a repeat changes nothing)"),
                ("webhook-timestamp", false, "standard: Unix seconds, within 5 minutes"),
                ("webhook-signature", false, "standard: v1,<base64 HMAC-SHA256 of id.timestamp.body>"),
            ],
            responses: [
                200: ("applied, or already applied (a repeated delivery), or older than what is stored; `result` says which", "InboundResult"),
                400: ("not the source's format; nothing changed", "Error"), 401: ("the signature or token does not match; nothing changed", "Error"),
                404: ("no such source", "Error"), 422: ("a field is wrong; nothing changed", "Error"),
                429: ("too many failed authentications from this address", "Error"),
            ])) { request, context in try receive(request, sourceID: try context.parameters.require("source_id")) }
    }

    func receive(_ request: HTTPRequest, sourceID: String) throws -> HTTPResponse {
        guard let source = sources.first(where: { $0.id == sourceID }) else {
            throw HTTPError.notFound("no inbound source \"\(sourceID)\" ([[inbound]] in the configuration)")
        }
        let date = now()
        do {
            // Proof first: a correct HMAC or a 32-character token cannot be guessed, so a
            // flood of bad deliveries (through the same reverse proxy) never locks the PMS out.
            let key: String
            do {
                key = try authenticate(request, source: source, at: date)
            } catch {
                throw throttle.refusal(request.clientAddress) ?? error
            }
            let change: ReservationChange
            switch source.format {
            case .standard: change = try StandardInbound.change(request.body)
            case .guest: change = try GuestReservation.change(request.body, updateType: request.headers["updatetype"],
                                                             statusMap: source.statusMap, versionField: source.versionField, timeZone: timeZone)
            }
            let outcome = try repository.apply(change, source: source.id, key: key)
            return .json(InboundResult(outcome, change: change))
        } catch let refusal as InboundRefusal {
            if case .unauthenticated(let reason) = refusal {
                // The source and why, never the body: it holds guests' personal data.
                throttle.failed(request.clientAddress, reason: "inbound \(source.id): \(reason)")
                logger.warning("inbound delivery refused: authentication failed", metadata: [
                    "source": "\(source.id)", "address": "\(request.clientAddress)", "reason": "\(reason)"])
            }
            throw refusal.httpError
        }
    }

    /// The delivery's key (for de-duplication) once the source is proven.
    func authenticate(_ request: HTTPRequest, source: InboundSource, at date: Date) throws(InboundRefusal) -> String {
        let bodyKey = { "sha256:" + Crypto.sha256(Array((request.headers["updatetype"] ?? "").lowercased().utf8) + [0] + request.body).hexString }
        switch source.authentication {
        case .standardWebhooks(let secrets):
            return try StandardInbound.verify(request, secrets: secrets, now: date).get()
        case .bodySignature(let key):
            let expected = Array(WebhookSigner.bodySignature(body: request.body, key: key).utf8)
            guard let offered = request.headers["x-signature"], Crypto.constantTimeEqual(expected, Array(offered.lowercased().utf8)) else {
                throw .unauthenticated("X-Signature: sha256=<hex HMAC-SHA256 of the body> is missing or does not match")
            }
            return bodyKey()
        case .bearer(let token):
            let header = request.headers["authorization"] ?? ""
            guard header.lowercased().hasPrefix("bearer "), Crypto.constantTimeEqual(token, Array(header.dropFirst(7).trimmingCharacters(in: .whitespaces).utf8)) else {
                throw .unauthenticated("Authorization: Bearer <the source's token> is missing or wrong")
            }
            return bodyKey()
        }
    }
}

/// `{"result", "reservation_id"}`: what an inbound delivery did.
struct InboundResult: Encodable, JSONRepresentable {
    var result: String
    var reservationID: String

    var json: JSONValue { ["result": .string(result), "reservation_id": .string(reservationID)] }
    func encode(to encoder: Encoder) throws { try json.encode(to: encoder) }

    init(_ outcome: Reservations.InboundOutcome, change: ReservationChange) {
        switch change {
        case .upsert(let reservation): reservationID = reservation.id
        case .delete(let id, _): reservationID = id
        }
        switch outcome {
        case .applied(.created): result = "created"
        case .applied(.updated): result = "updated"
        case .applied(.unchanged): result = "unchanged"
        case .deleted: result = "deleted"
        case .duplicate: result = "duplicate"
        case .stale: result = "stale"
        case .unknown: result = "unknown"
        }
    }
}

/// A delivery's body as JSON, or `.malformed` saying where it stops being JSON.
enum JSONBody {
    static func read(_ body: [UInt8], shape: String) throws(InboundRefusal) -> JSONValue {
        do { return try JSONReader.read(body) } catch { throw .malformed(error.explained(shape: shape)) }
    }
}
