import Foundation
import Outbox

/// A stay as the hotel's PMS knows it, pushed to portald so guests can check in
/// online and log in to the WiFi with it. The PMS owns it: portald keeps the latest
/// version it was sent and moves only its status (arrive).
public struct Reservation: Sendable, Equatable {
    /// The PMS's id (a string: PMSs use numbers, UUIDs or codes).
    public var id: String
    /// The booking code the guest knows (on the confirmation email).
    public var reference: String
    public var status: Status
    public var arrival: LocalDate
    public var departure: LocalDate
    /// A room number or name once assigned ("214", "A-12").
    public var room: String?
    public var adults: Int
    public var children: Int
    public var babies: Int
    /// The guests' language (BCP 47, "de", "pt-BR"): pages and messages use it.
    public var language: String?
    /// Everyone staying; exactly one is the primary guest.
    public var guests: [Guest]
    /// The source's version of this reservation (a counter or a timestamp): an update
    /// with a lower one than stored is stale and ignored. Nil when the source sends none.
    public var version: Int64?

    public init(id: String, reference: String, status: Status, arrival: LocalDate, departure: LocalDate, room: String? = nil,
                adults: Int, children: Int = 0, babies: Int = 0, language: String? = nil, guests: [Guest], version: Int64? = nil) {
        self.id = id
        self.reference = reference
        self.status = status
        self.arrival = arrival
        self.departure = departure
        self.room = room
        self.adults = adults
        self.children = children
        self.babies = babies
        self.language = language
        self.guests = guests
        self.version = version
    }

    public var primaryGuest: Guest? { guests.first(where: \.primary) }

    public enum Status: String, Sendable, CaseIterable, Codable {
        case confirmed
        case cancelled
        case inHouse = "in_house"
        case checkedOut = "checked_out"
        case noShow = "no_show"

        /// Whether a reservation in this status may be moved to `next`. What a front desk
        /// does: cancel or mark a no-show before arrival, check in, check out, and undo the
        /// last step (reinstate, undo a check-in or check-out). A stay cannot end before it
        /// began (confirmed → checked out), nor be cancelled once the guest is in the house.
        public func canBecome(_ next: Status) -> Bool {
            next == self || Self.moves[self, default: []].contains(next)
        }

        static let moves: [Status: Set<Status>] = [
            .confirmed: [.cancelled, .inHouse, .noShow],
            .cancelled: [.confirmed],
            .noShow: [.confirmed, .cancelled],
            .inHouse: [.checkedOut, .confirmed],
            .checkedOut: [.inHouse],
        ]
    }

    public struct Guest: Sendable, Equatable, Codable {
        public var firstName: String
        public var lastName: String
        public var email: String?
        public var phone: String?
        public var primary: Bool

        public init(firstName: String, lastName: String, email: String? = nil, phone: String? = nil, primary: Bool) {
            self.firstName = firstName
            self.lastName = lastName
            self.email = email
            self.phone = phone
            self.primary = primary
        }

        enum CodingKeys: String, CodingKey {
            case firstName = "first_name", lastName = "last_name", email, phone, primary
        }

        public func encode(to encoder: Encoder) throws { try json.encode(to: encoder) }
    }
}

extension Reservation.Guest: JSONRepresentable {
    public var json: JSONValue {
        // null, not absent: every field is always there
        ["first_name": .string(firstName), "last_name": .string(lastName), "email": email.map(JSONValue.string) ?? .null,
         "phone": phone.map(JSONValue.string) ?? .null, "primary": .bool(primary)]
    }
}

/// A reservation as stored: the PMS's data plus what portald keeps about it.
public struct StoredReservation: Sendable, Equatable {
    public var reservation: Reservation
    public var createdAt: Date
    public var updatedAt: Date
    /// Where the last applied version came from: "api", or "inbound:<source id>".
    public var source: String
    /// When the check-in link stops working: the end of the departure day, site time.
    public var checkinExpiresAt: Date
    /// The check-in link, only in the answer that made it: portald keeps its hash alone.
    public var checkinURL: URL?
}
