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
                       versionField: String?, timeZone: TimeZone) throws(InboundRefusal) -> ReservationChange {
        let shape = "a JSON list of ReservationsUpdateDTO ([new] or [new, previous])"
        guard case .array(let items) = try JSONBody.read(body, shape: shape) else {
            throw .malformed("the body must be \(shape)")
        }
        guard (1...2).contains(items.count), case .object(let dto) = items[0], items.allSatisfy({ if case .object = $0 { true } else { false } }) else {
            throw .malformed("the list must hold one or two ReservationsUpdateDTO objects ([new] or [new, previous]), not \(items.count) items")
        }
        let id = try text(dto["reservation_id"], "reservation_id")
        let version: Int64?
        do {
            try ReservationDocument.checkID(id, field: "reservation_id")
            version = try versionField.map { field throws(ReservationError) -> Int64? in try ReservationDocument.version(dto[field], field: field) } ?? nil
        } catch {
            throw .invalid(error)
        }
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
            // GUEST may send no reference, or null, or "": the id stands in.
            "reference": .string((try? text(dto["reference"], "reference")) ?? id),
            "status": .string(status.rawValue),
            "arrival": .string(try date(dto["arrivalDate"], "arrivalDate", in: timeZone)),
            "departure": .string(try date(dto["exitDate"], "exitDate", in: timeZone)),
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
        let trimmed = responsible.trimmingCharacters(in: .whitespacesAndNewlines)
        if let comma = trimmed.firstIndex(of: ",") {
            return (trimmed[trimmed.index(after: comma)...].trimmingCharacters(in: .whitespaces), trimmed[..<comma].trimmingCharacters(in: .whitespaces))
        }
        guard let space = trimmed.lastIndex(of: " ") else { return ("", trimmed) }
        return (String(trimmed[..<space]).trimmingCharacters(in: .whitespaces), String(trimmed[trimmed.index(after: space)...]))
    }

    static func text(_ value: JSONValue?, _ field: String) throws(InboundRefusal) -> String {
        switch value {
        case .string(let text)? where !text.isEmpty: return text
        case .number(let number)? where number.rounded() == number && abs(number) < JSONValue.exactIntegers: return String(Int64(number))
        default: throw .malformed("\(field): required, a string or a whole number")
        }
    }

    /// `2026-12-01`, or a date-time: a local one is taken as it stands, one with `Z` or an
    /// offset is moved to the site's zone first (23:00Z on 30 Nov is 1 Dec in Madrid).
    static func date(_ value: JSONValue?, _ field: String, in zone: TimeZone) throws(InboundRefusal) -> String {
        guard case .string(let text)? = value, text.count >= 10, LocalDate(String(text.prefix(10))) != nil,
              text.count == 10 || text.dropFirst(10).first == "T" || text.dropFirst(10).first == " " else {
            throw .malformed("\(field): required, a date (2026-12-01 or 2026-12-01T00:00:00)")
        }
        let time = text.dropFirst(11)
        if time.hasSuffix("Z") || time.contains("+") || time.contains("-"), let instant = RFC3339.date(text.replacingOccurrences(of: " ", with: "T")) {
            return LocalDate(instant, in: zone).description
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
}
