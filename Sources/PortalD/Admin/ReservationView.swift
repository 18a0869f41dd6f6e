import Arrivals
import Foundation
import Outbox

/// A reservation as the admin API and the CLI show it (DESIGN.md "Arrivals contract"),
/// with `checkin_url` only in the answer that made the link.
public struct ReservationView: Codable, Sendable, Equatable {
    public var id: String
    public var reference: String
    public var status: String
    public var arrival: String
    public var departure: String
    public var room: String?
    public var adults: Int
    public var children: Int
    public var babies: Int
    public var language: String?
    public var guests: [Reservation.Guest]
    public var version: Int64?
    public var createdAt: Date
    public var updatedAt: Date
    public var checkinURL: String?
    public var checkinExpiresAt: Date

    enum CodingKeys: String, CodingKey {
        case id, reference, status, arrival, departure, room, adults, children, babies, language, guests, version
        case createdAt = "created_at", updatedAt = "updated_at", checkinURL = "checkin_url", checkinExpiresAt = "checkin_expires_at"
    }

    init(_ stored: StoredReservation) {
        let reservation = stored.reservation
        id = reservation.id
        reference = reservation.reference
        status = reservation.status.rawValue
        arrival = reservation.arrival.description
        departure = reservation.departure.description
        room = reservation.room
        adults = reservation.adults
        children = reservation.children
        babies = reservation.babies
        language = reservation.language
        guests = reservation.guests
        version = reservation.version
        createdAt = stored.createdAt
        updatedAt = stored.updatedAt
        checkinURL = stored.checkinURL?.absoluteString
        checkinExpiresAt = stored.checkinExpiresAt
    }

    public func encode(to encoder: Encoder) throws { try json.encode(to: encoder) }
}

extension ReservationView: JSONRepresentable {
    /// Every field always present: null when unknown, so clients need no "missing" case.
    public var json: JSONValue {
        func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
        return ["id": .string(id), "reference": .string(reference), "status": .string(status), "arrival": .string(arrival),
                "departure": .string(departure), "room": optional(room), "adults": .number(Double(adults)),
                "children": .number(Double(children)), "babies": .number(Double(babies)), "language": optional(language),
                "guests": guests.json, "version": version.map { .number(Double($0)) } ?? .null,
                "created_at": .string(RFC3339.string(createdAt)), "updated_at": .string(RFC3339.string(updatedAt)),
                "checkin_url": optional(checkinURL), "checkin_expires_at": .string(RFC3339.string(checkinExpiresAt))]
    }
}

public struct ReservationListView: Codable, Sendable {
    public var reservations: [ReservationView]
    public var nextCursor: String?

    enum CodingKeys: String, CodingKey { case reservations, nextCursor = "next_cursor" }

    public func encode(to encoder: Encoder) throws { try json.encode(to: encoder) }
}

extension ReservationListView: JSONRepresentable {
    public var json: JSONValue { ["reservations": reservations.json, "next_cursor": nextCursor.map(JSONValue.string) ?? .null] }
}
