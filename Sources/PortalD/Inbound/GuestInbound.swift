import Arrivals
import Crypto
import Foundation
import HTTPServer
import Outbox

/// GUEST Hotelsoftware's reservation webhook: a JSON list of ReservationsUpdateDTO,
/// one item (the new state) or two (`[new, previous]`), and a header `UpdateType:
/// Insert | Update | Delete`. Read defensively: ids and rooms as numbers or strings,
/// dates as `YYYY-MM-DD` or a date-time; fields portald does not use are ignored.
public enum GuestReservation {
    /// `rsvStatus` → status when `[inbound.status_map]` does not say otherwise. GUEST's
    /// numbers depend on the hotel's setup: check them against its configuration.
    public static let defaultStatusMap: [Int: Reservation.Status] = [
        0: .confirmed, 1: .confirmed, 2: .inHouse, 3: .checkedOut, 4: .cancelled, 5: .noShow,
    ]

    /// Our field → GUEST's, so an error names the field the PMS sent.
    static let fieldNames = ["id": "reservation_id", "reference": "reference", "status": "rsvStatus", "arrival": "arrivalDate",
                             "departure": "exitDate", "room": "roomId", "adults": "ad", "children": "jr/ch", "babies": "bb",
                             "guests": "responsible", "guests[0].last_name": "responsible", "version": "version"]

    /// The change one delivery asks for. `versionField` names a DTO field holding the
    /// source's version (a number, or a date-time taken as Unix milliseconds).
    static func change(_ body: [UInt8], updateType: String?, statusMap: [Int: Reservation.Status],
                       versionField: String?) throws(InboundRefusal) -> ReservationChange {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body)), case .array(let items) = value else {
            throw .malformed("the body must be a JSON list of ReservationsUpdateDTO ([new] or [new, previous])")
        }
        guard (1...2).contains(items.count), case .object(let dto) = items[0] else {
            throw .malformed("the list must hold one or two ReservationsUpdateDTO objects ([new] or [new, previous]), not \(items.count) items")
        }
        let id = try text(dto["reservation_id"], "reservation_id")
        let version = try versionField.map { field throws(InboundRefusal) -> Int64? in try Self.version(dto[field], field) } ?? nil
        switch updateType?.lowercased() {
        case "delete"?: return .delete(id: id, version: version)
        case "insert"?, "update"?, nil: break
        case let other?: throw .malformed("UpdateType \"\(other)\" is not Insert, Update or Delete")
        }
        guard case .number(let number)? = dto["rsvStatus"], let code = Int(exactly: number) else { throw .malformed("rsvStatus: required, a number") }
        guard let status = statusMap[code] else {
            throw .malformed("rsvStatus \(code) is not in the source's status_map (mapped: \(statusMap.keys.sorted().map(String.init).joined(separator: ", ")))")
        }
        let (first, last) = name(try text(dto["responsible"], "responsible"))
        var object: [String: JSONValue] = [
            "reference": .string(try text(dto["reference"] ?? dto["reservation_id"], "reference")),
            "status": .string(status.rawValue),
            "arrival": .string(try date(dto["arrivalDate"], "arrivalDate")),
            "departure": .string(try date(dto["exitDate"], "exitDate")),
            "adults": dto["ad"] ?? .null,
            "children": .number(try count(dto["jr"], "jr") + count(dto["ch"], "ch")),
            "babies": .number(try count(dto["bb"], "bb")),
            "guests": [["first_name": .string(first), "last_name": .string(last), "primary": true]],
        ]
        if let room = dto["roomId"], let text = try? Self.text(room, "roomId"), text != "0" { object["room"] = .string(text) }
        if let version { object["version"] = .number(Double(version)) }
        do {
            return .upsert(try ReservationDocument.parse(object, id: id))
        } catch {
            guard case .invalid(let field, let message) = error else { throw .invalid(error) }
            throw .invalid(.invalid(field: fieldNames[field] ?? field, message: message))
        }
    }

    /// "Müller, Anna" or "Anna Müller" → (first, last); one word is the last name.
    static func name(_ responsible: String) -> (String, String) {
        let trimmed = responsible.trimmingCharacters(in: .whitespaces)
        if let comma = trimmed.firstIndex(of: ",") {
            return (trimmed[trimmed.index(after: comma)...].trimmingCharacters(in: .whitespaces), trimmed[..<comma].trimmingCharacters(in: .whitespaces))
        }
        guard let space = trimmed.lastIndex(of: " ") else { return ("", trimmed) }
        return (String(trimmed[..<space]).trimmingCharacters(in: .whitespaces), String(trimmed[trimmed.index(after: space)...]))
    }

    static func text(_ value: JSONValue?, _ field: String) throws(InboundRefusal) -> String {
        switch value {
        case .string(let text)? where !text.isEmpty: return text
        case .number(let number)? where number.rounded() == number && abs(number) < 9e15: return String(Int64(number))
        default: throw .malformed("\(field): required, a string or a whole number")
        }
    }

    static func date(_ value: JSONValue?, _ field: String) throws(InboundRefusal) -> String {
        guard case .string(let text)? = value, text.count >= 10, LocalDate(String(text.prefix(10))) != nil,
              text.count == 10 || text.dropFirst(10).first == "T" || text.dropFirst(10).first == " " else {
            throw .malformed("\(field): required, a date (2026-12-01 or 2026-12-01T00:00:00)")
        }
        return String(text.prefix(10))
    }

    static func count(_ value: JSONValue?, _ field: String) throws(InboundRefusal) -> Double {
        switch value {
        case nil, .null?: return 0
        case .number(let number)? where number.rounded() == number && number >= 0: return number
        default: throw .malformed("\(field): a whole number ≥ 0")
        }
    }

    static func version(_ value: JSONValue?, _ field: String) throws(InboundRefusal) -> Int64? {
        switch value {
        case nil, .null?: return nil
        case .number(let number)? where number.rounded() == number && number >= 0 && number < 9e15: return Int64(number)
        case .string(let text)?:
            if let number = Int64(text), number >= 0 { return number }
            if let date = RFC3339.date(text) ?? RFC3339.date(text + "Z") { return Int64((date.timeIntervalSince1970 * 1000).rounded()) }
            fallthrough
        default: throw .malformed("\(field): the version, a whole number or a date-time")
        }
    }
}
