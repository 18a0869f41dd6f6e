import Foundation
import Outbox

/// The reservation JSON of DESIGN.md ("Arrivals contract"), read field by field so
/// every error names the field: the body of `PUT /api/v1/reservations/{id}`, of a
/// standard inbound `reservation.upserted`, and the file `portald reservations put` sends.
///
///     {"reference": "BKG-A1B2C3", "status": "confirmed", "arrival": "2026-12-01",
///      "departure": "2026-12-04", "room": "214", "adults": 2, "children": 1, "babies": 0,
///      "language": "de", "guests": [{"first_name": "Anna", "last_name": "Müller",
///      "email": "anna@example.com", "phone": "+49…", "primary": true}], "version": 7}
public enum ReservationDocument {
    public static let fields: Set<String> = ["id", "reference", "status", "arrival", "departure", "room", "adults", "children",
                                             "babies", "language", "guests", "version"]
    /// What portald adds in its answers: accepted and ignored, so a GET, edited, can be PUT back.
    public static let readOnlyFields: Set<String> = ["created_at", "updated_at", "checkin_url", "checkin_expires_at"]
    static let guestFields: Set<String> = ["first_name", "last_name", "email", "phone", "primary"]

    /// The reservation `id` (from the path) described by `body`. An `id` in the body
    /// must agree with it; unknown fields are refused, so a misspelt one is not lost.
    public static func parse(_ body: [UInt8], id: String) throws(ReservationError) -> Reservation {
        let value: JSONValue
        let shape = "a JSON object: a reservation (see the OpenAPI document's ReservationInput)"
        do { value = try JSONReader.read(body) } catch { throw .malformed(error.explained(shape: shape)) }
        guard case .object(let object) = value else {
            throw .malformed("the body must be \(shape)")
        }
        return try parse(object, id: id)
    }

    public static func parse(_ object: [String: JSONValue], id: String) throws(ReservationError) -> Reservation {
        try checkID(id, field: "id")
        if let unknown = object.keys.sorted().first(where: { !fields.contains($0) && !readOnlyFields.contains($0) }) {
            throw .invalid(field: unknown, message: "unknown field (known: \(fields.sorted().joined(separator: ", ")))")
        }
        let read = Fields(object: object, path: "")
        if let bodyID = try read.optionalString("id"), bodyID != id {
            throw .invalid(field: "id", message: "\"\(bodyID)\" differs from the id in the path, \"\(id)\"")
        }
        let arrival = try read.date("arrival")
        let departure = try read.date("departure")
        guard departure >= arrival else {
            throw .invalid(field: "departure", message: "\(departure) is before the arrival \(arrival)")
        }
        let statusText = try read.string("status")
        guard let status = Reservation.Status(rawValue: statusText) else {
            throw .invalid(field: "status", message: "\"\(statusText)\" is not one of \(Reservation.Status.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let language = try read.optionalString("language")
        if let language, !TextShapes.isLanguageTag(language) {
            throw .invalid(field: "language", message: "\"\(language)\" is not a language tag like \"de\" or \"pt-BR\"")
        }
        let reference = try read.string("reference")
        guard !reference.isEmpty, reference.count <= 64 else { throw .invalid(field: "reference", message: "must be 1 to 64 characters") }
        let room = try read.optionalString("room")
        if let room, room.isEmpty || room.count > 32 { throw .invalid(field: "room", message: "must be 1 to 32 characters, or null") }
        let version = try Self.version(read)
        return Reservation(
            id: id, reference: reference, status: status, arrival: arrival, departure: departure, room: room,
            adults: Int(try read.integer("adults", in: 1...99)),
            children: Int(try read.optionalInteger("children", in: 0...99) ?? 0),
            babies: Int(try read.optionalInteger("babies", in: 0...99) ?? 0),
            language: language, guests: try guests(read), version: version)
    }

    /// The largest version: JSON numbers are doubles, exact up to 2^53 − 1.
    public static let maximumVersion: Int64 = 9_007_199_254_740_991

    /// A counter, or the source's update time as RFC 3339 (kept as Unix milliseconds).
    static func version(_ read: Fields) throws(ReservationError) -> Int64? {
        try version(read.object["version"], field: "version")
    }

    /// The one reading of a version, for every way one arrives (JSON number, numeric
    /// text, RFC 3339 time): a version no update could exceed would make a tombstone forever.
    public static func version(_ value: JSONValue?, field: String) throws(ReservationError) -> Int64? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?:
            if let number = Int64(text), (0...maximumVersion).contains(number) { return number }
            guard let date = RFC3339.date(text) ?? RFC3339.date(text + "Z") else {
                throw .invalid(field: field, message: "\"\(text)\" is neither a whole number up to \(maximumVersion) nor an RFC 3339 time")
            }
            return Int64((date.timeIntervalSince1970 * 1000).rounded())
        default:
            return try Fields(object: [field: value!], path: "").optionalInteger(field, in: 0...maximumVersion)
        }
    }

    /// A PMS id: what fits in a URL path segment unescaped and in a log line.
    public static func checkID(_ id: String, field: String) throws(ReservationError) {
        guard TextShapes.isReservationID(Substring(id)) else {
            throw .invalid(field: field, message: "\"\(id)\" is not a reservation id (1 to 64 letters, digits, '.', '_', ':' or '-')")
        }
    }

    static func guests(_ fields: Fields) throws(ReservationError) -> [Reservation.Guest] {
        guard case .array(let items)? = fields.object["guests"] else {
            throw .invalid(field: "guests", message: fields.object["guests"] == nil ? "required: a list of guests, one of them primary" : "must be a list")
        }
        guard (1...50).contains(items.count) else { throw .invalid(field: "guests", message: "list 1 to 50 guests") }
        var guests: [Reservation.Guest] = []
        for (index, item) in items.enumerated() {
            let path = "guests[\(index)]"
            guard case .object(let object) = item else { throw .invalid(field: path, message: "must be an object") }
            if let unknown = object.keys.sorted().first(where: { !guestFields.contains($0) }) {
                throw .invalid(field: "\(path).\(unknown)", message: "unknown field (known: \(guestFields.sorted().joined(separator: ", ")))")
            }
            let guest = Fields(object: object, path: path + ".")
            let lastName = try guest.string("last_name")
            guard !lastName.trimmingCharacters(in: .whitespaces).isEmpty, lastName.count <= 100 else {
                throw .invalid(field: "\(path).last_name", message: "must be 1 to 100 characters")
            }
            let firstName = try guest.optionalString("first_name") ?? ""
            guard firstName.count <= 100 else { throw .invalid(field: "\(path).first_name", message: "must be at most 100 characters") }
            let email = try guest.optionalString("email")
            if let email, !TextShapes.isEmail(email) {
                throw .invalid(field: "\(path).email", message: "\"\(email)\" is not an email address")
            }
            let phone = try guest.optionalString("phone")
            if let phone, !TextShapes.isPhone(phone) {
                throw .invalid(field: "\(path).phone", message: "\"\(phone)\" is not a phone number (digits, spaces, ()/.-, an optional leading +)")
            }
            guests.append(.init(firstName: firstName, lastName: lastName, email: email, phone: phone, primary: try guest.optionalBool("primary") ?? false))
        }
        guard guests.filter(\.primary).count == 1 else {
            throw .invalid(field: "guests", message: "mark exactly one guest \"primary\": true (found \(guests.filter(\.primary).count))")
        }
        return guests
    }
}

/// Typed reads of one JSON object's fields; errors carry the field's path.
struct Fields {
    let object: [String: JSONValue]
    let path: String

    func string(_ name: String) throws(ReservationError) -> String {
        guard let value = try optionalString(name) else { throw .invalid(field: path + name, message: "required") }
        return value
    }

    func optionalString(_ name: String) throws(ReservationError) -> String? {
        switch object[name] {
        case nil, .null?: return nil
        case .string(let text)?:
            guard !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw .invalid(field: path + name, message: "must not contain control characters")
            }
            return text
        default: throw .invalid(field: path + name, message: "must be a string")
        }
    }

    func date(_ name: String) throws(ReservationError) -> LocalDate {
        let text = try string(name)
        guard let date = LocalDate(text) else { throw .invalid(field: path + name, message: "\"\(text)\" is not a date like 2026-12-01") }
        return date
    }

    func integer(_ name: String, in range: ClosedRange<Int64>) throws(ReservationError) -> Int64 {
        guard let value = try optionalInteger(name, in: range) else { throw .invalid(field: path + name, message: "required") }
        return value
    }

    func optionalInteger(_ name: String, in range: ClosedRange<Int64>) throws(ReservationError) -> Int64? {
        switch object[name] {
        case nil, .null?: return nil
        case .number(let number)?:
            guard number.rounded() == number, number >= Double(range.lowerBound), number <= Double(range.upperBound) else {
                throw .invalid(field: path + name, message: "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return Int64(number)
        default: throw .invalid(field: path + name, message: "must be a number")
        }
    }

    func optionalBool(_ name: String) throws(ReservationError) -> Bool? {
        switch object[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw .invalid(field: path + name, message: "must be true or false")
        }
    }
}
