import Arrivals
import Foundation

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

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        // Every field always present: null when unknown, so clients need no "missing" case.
        try container.encode(id, forKey: .id)
        try container.encode(reference, forKey: .reference)
        try container.encode(status, forKey: .status)
        try container.encode(arrival, forKey: .arrival)
        try container.encode(departure, forKey: .departure)
        try container.encode(room, forKey: .room)
        try container.encode(adults, forKey: .adults)
        try container.encode(children, forKey: .children)
        try container.encode(babies, forKey: .babies)
        try container.encode(language, forKey: .language)
        try container.encode(guests, forKey: .guests)
        try container.encode(version, forKey: .version)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(checkinURL, forKey: .checkinURL)
        try container.encode(checkinExpiresAt, forKey: .checkinExpiresAt)
    }
}

public struct ReservationListView: Codable, Sendable {
    public var reservations: [ReservationView]
    public var nextCursor: String?

    enum CodingKeys: String, CodingKey { case reservations, nextCursor = "next_cursor" }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(reservations, forKey: .reservations)
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}
