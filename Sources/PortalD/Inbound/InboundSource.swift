import Arrivals
import Foundation
import Outbox

/// A system that pushes reservations to portald (`[[inbound]]`): its id (the path
/// `/api/v1/inbound/{id}`), its format, how it proves who it is, and for GUEST how its
/// status numbers map to ours.
public struct InboundSource: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        /// GUEST Hotelsoftware's reservation webhook: a JSON list of ReservationsUpdateDTO.
        case guest
        /// portald's own envelope, signed as Standard Webhooks.
        case standard
    }

    public enum Authentication: Sendable {
        /// Standard Webhooks: `webhook-id`, `webhook-timestamp` (within 5 minutes), `webhook-signature`.
        case standardWebhooks([WebhookSecret])
        /// `X-Signature: sha256=<hex HMAC-SHA256 of the body>`.
        case bodySignature(key: [UInt8])
        /// `Authorization: Bearer <token>` (GUEST does not sign its webhooks).
        case bearer(token: [UInt8])
    }

    public var id: String
    public var format: Format
    public var authentication: Authentication
    /// GUEST's `rsvStatus` → our status; unmapped numbers are refused (400).
    public var statusMap: [Int: Reservation.Status]
    /// GUEST: the DTO field that holds the source's version (a number or a date-time);
    /// without one, deliveries apply in the order they arrive.
    public var versionField: String?

    public init(id: String, format: Format, authentication: Authentication,
                statusMap: [Int: Reservation.Status] = GuestReservation.defaultStatusMap, versionField: String? = nil) {
        self.id = id
        self.format = format
        self.authentication = authentication
        self.statusMap = statusMap
        self.versionField = versionField
    }
}
