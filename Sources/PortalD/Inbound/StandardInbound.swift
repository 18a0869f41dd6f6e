import Arrivals
import Crypto
import Foundation
import HTTPServer
import Outbox

/// portald's own envelope coming in (from the hotel's cloud, an n8n flow):
/// `{"id", "event", "created_at", "data"}` with `reservation.upserted` (data: a
/// reservation with its `id`) or `reservation.deleted` (data: `{"id", "version"?}`),
/// signed the Standard Webhooks way.
enum StandardInbound {
    static let tolerance: TimeInterval = 5 * 60

    /// Checks the three headers against the source's secrets; returns the webhook-id
    /// (the delivery's key), or why it is refused.
    static func verify(_ request: HTTPRequest, secrets: [WebhookSecret], now: Date) -> Result<String, InboundRefusal> {
        guard let id = request.headers["webhook-id"], let timestampText = request.headers["webhook-timestamp"],
              let signatures = request.headers["webhook-signature"] else {
            return .failure(.unauthenticated("send webhook-id, webhook-timestamp and webhook-signature (Standard Webhooks)"))
        }
        guard let timestamp = Int64(timestampText), abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance else {
            return .failure(.unauthenticated("webhook-timestamp is not within 5 minutes of portald's clock"))
        }
        let valid = secrets.filter { $0.validUntil.map { $0 > now } ?? true }
        let expected = valid.map { secret in
            Array(WebhookSigner.standardSignature(id: id, timestamp: timestamp, body: request.body, keys: [secret.key]).utf8)
        }
        // Every offered signature is compared with every key, in constant time each.
        var matched = false
        for offered in signatures.split(separator: " ") where offered.hasPrefix("v1,") {
            for signature in expected where Crypto.constantTimeEqual(signature, Array(offered.utf8)) { matched = true }
        }
        return matched ? .success(id) : .failure(.unauthenticated("webhook-signature does not match"))
    }

    static func change(_ body: [UInt8]) throws(InboundRefusal) -> ReservationChange {
        let shape = "a JSON envelope {\"id\", \"event\", \"created_at\", \"data\"}"
        guard case .object(let envelope) = try JSONBody.read(body, shape: shape) else {
            throw .malformed("the body must be \(shape)")
        }
        guard case .string(let event)? = envelope["event"] else { throw .malformed("event: required, a string") }
        guard case .object(let data)? = envelope["data"] else { throw .malformed("data: required, an object") }
        guard case .string(let id)? = data["id"] else { throw .malformed("data.id: required, the reservation's id") }
        do {
            try ReservationDocument.checkID(id, field: "data.id")
        } catch {
            throw .invalid(error)
        }
        switch event {
        case "reservation.upserted":
            do {
                return .upsert(try ReservationDocument.parse(data, id: id))
            } catch {
                throw .invalid(error)
            }
        case "reservation.deleted":
            do {
                return .delete(id: id, version: try ReservationDocument.version(data["version"], field: "data.version"))
            } catch {
                throw .invalid(error)
            }
        default:
            throw .malformed("event \"\(event)\" is not one portald takes (reservation.upserted, reservation.deleted)")
        }
    }
}

/// Why an inbound delivery was refused; nothing was changed.
enum InboundRefusal: Error, Equatable {
    case unauthenticated(String)
    case malformed(String)
    case invalid(ReservationError)

    var httpError: HTTPError {
        switch self {
        case .unauthenticated(let message): HTTPError(401, code: "unauthorized", message: message)
        case .malformed(let message): HTTPError.badRequest("malformed", message)
        case .invalid(let error): error.httpError
        }
    }
}
