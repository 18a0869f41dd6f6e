import Arrivals
import Foundation
import HTTPServer
import Outbox

/// A guest's right of access and to erasure (GDPR art. 15 and 17), for the hotel to
/// answer: `portald reservations export|erase ID` call these.
struct PersonalDataController {
    let repository: any ReservationRepository
    let checkins: Checkins
    /// The WiFi sessions a reservation's arrival started (their devices' MACs are the guest's data too).
    let clients: any ClientRepository

    func addRoutes(to api: DocumentedRoutes) {
        api.scoped(AdminScope.personalDataRead).get("/reservations/{id}/personal-data", APIOperation(
            summary: "Everything portald keeps of a reservation's guests: the reservation, their check-in details, the terms signature, the WiFi sessions its arrival started",
            responses: [200: ("the data", "PersonalData"), 404: ("no such reservation (or erased)", "Error")])) { _, context in
            let id = try context.parameters.require("id")
            guard let stored = try repository.get(id: id) else { throw ReservationError.notFound(id: id) }
            return .json(bytes: Self.export(stored, try checkins.progress(reservationID: id), wifi: try clients.sessions(of: .reservation(id)),
                                            at: checkins.now()).bytes)
        }
        api.scoped(AdminScope.personalDataWrite).delete("/reservations/{id}/personal-data", APIOperation(
            summary: "Erase a reservation's personal data now: its check-in, its finished arrival events, and the reservation's names and contacts (a tombstone with id, version, status and dates stays)",
            responses: [204: ("erased", nil), 404: ("nothing is kept of it", "Error")])) { _, context in
            let id = try context.parameters.require("id")
            guard try checkins.erase(reservationID: id) else { throw ReservationError.notFound(id: id) }
            return HTTPResponse(status: 204)
        }
    }

    static func export(_ stored: StoredReservation, _ progress: Checkins.Progress, wifi: [Session], at date: Date) -> JSONValue {
        func time(_ date: Date?) -> JSONValue { date.map { .string(RFC3339.string($0)) } ?? .null }
        func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
        let guests: [JSONValue] = progress.guests.keys.sorted().map { position in
            ["position": .number(Double(position)), "primary": .bool(position == 0),
             "details": progress.guests[position]!.jsonValue]
        }
        let signature: JSONValue = progress.terms.map { terms in
            ["name": .string(terms.name), "signed_at": time(terms.signedAt), "client_address": .string(terms.clientAddress),
             "user_agent": .string(terms.userAgent), "language": .string(terms.language), "terms_version": .string(terms.termsVersion),
             "terms_sha256": .string(terms.termsSHA256), "marketing_consent": .bool(terms.marketing)]
        } ?? .null
        let sessions: [JSONValue] = wifi.map { session in
            ["session_id": .string(session.id), "mac": .string(session.mac.description), "ipv4": text(session.ipv4?.description),
             "ipv6": .array(session.device.ipv6.map { .string($0.description) }),
             "started_at": time(session.startedAt), "expires_at": time(session.expiresAt), "ended_at": time(session.endedAt),
             "bytes_up": .number(Double(session.bytesUp)), "bytes_down": .number(Double(session.bytesDown))]
        }
        return ["reservation": ReservationView(stored).json, "exported_at": time(date), "wifi_sessions": .array(sessions),
                "checkin": ["confirmed_at": time(progress.confirmedAt), "arrived_at": time(progress.arrivedAt), "arrived_via": text(progress.arrivedVia),
                            "idempotency_key": text(progress.arrivalKey), "guests": .array(guests), "terms_signature": signature]]
    }
}
