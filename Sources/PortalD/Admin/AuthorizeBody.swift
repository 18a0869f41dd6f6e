import Firewall
import HTTPServer
import Outbox

/// `POST /clients/{mac}/auth`'s body, `{"ipv4"?, "ipv6"?, "minutes"?, "tier"?}`, checked as
/// documented (additionalProperties: false): a misspelt field is an error, not ignored.
struct AuthorizeBody {
    /// The address given (one family at most); nil: look it up in the neighbour table.
    var address: IPAddress?
    var minutes: Int?
    /// Absent: `[portal] tier`; null: no tier (a staff device in a hotel whose default is slow).
    var tier: String??

    static let shape = "the body must be a JSON object {\"ipv4\"?: string, \"ipv6\"?: string, \"minutes\"?: integer, \"tier\"?: string or null}"

    init(_ body: [UInt8], tiers: Set<String>) throws {
        guard !body.isEmpty else { return }
        guard case .object(let fields)? = JSONValue(json: body) else {
            throw HTTPError.badRequest("invalid_json", Self.shape)
        }
        let known: Set = ["ipv4", "ipv6", "minutes", "tier"]
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw HTTPError.badRequest("unknown_field", "unknown field \"\(unknown)\": \(Self.shape)")
        }
        if let null = fields.keys.sorted().first(where: { key in key != "tier" && { if case .null = fields[key] { true } else { false } }() }) {
            throw HTTPError.badRequest("invalid_\(null)", "\(null) must not be null: \(Self.shape)")
        }
        if fields["ipv4"] != nil && fields["ipv6"] != nil {
            throw HTTPError.badRequest("invalid_address", "give \"ipv4\" or \"ipv6\", not both: the device's other addresses are bound as the LAN sees them")
        }
        switch fields["ipv4"] {
        case nil: break
        case .string(let text)?:
            guard let ipv4 = IPv4Address(text) else { throw HTTPError.badRequest("invalid_ipv4", "\"\(text)\" is not an IPv4 address") }
            address = .v4(ipv4)
        default: throw HTTPError.badRequest("invalid_json", Self.shape)
        }
        switch fields["ipv6"] {
        case nil: break
        case .string(let text)?:
            // A guest's address: global unicast (2000::/3) or unique-local (fc00::/7), in
            // hex groups only (the document's pattern has no dotted IPv4 tail).
            guard !text.contains("."), let ipv6 = IPv6Address(text), ipv6.isGlobalOrUniqueLocal else {
                throw HTTPError.badRequest("invalid_ipv6", "\"\(text)\" is not a global or unique-local IPv6 address")
            }
            address = .v6(ipv6)
        default: throw HTTPError.badRequest("invalid_json", Self.shape)
        }
        switch fields["minutes"] {
        case nil: break
        case .number(let number)? where number.rounded() == number && abs(number) < 1e15:
            guard Session.minutesRange.contains(Int(number)) else {
                throw HTTPError.badRequest("invalid_minutes", "minutes must be between 1 and \(Session.minutesRange.upperBound)")
            }
            minutes = Int(number)
        default: throw HTTPError.badRequest("invalid_json", Self.shape)
        }
        switch fields["tier"] {
        case nil: break
        case .null?: tier = .some(nil)
        case .string(let name)?:
            guard tiers.contains(name) else {
                let configured = tiers.isEmpty ? "none are configured" : "configured: " + tiers.sorted().joined(separator: ", ")
                // 422: the body is well-formed; the name is this site's configuration's to know.
                throw HTTPError(422, code: "invalid_tier", message: "\"\(name)\" is not a tier in [[firewall.tiers]] (\(configured))", field: "tier")
            }
            tier = .some(name)
        default: throw HTTPError.badRequest("invalid_json", Self.shape)
        }
    }
}
