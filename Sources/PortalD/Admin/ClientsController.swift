import Firewall
import Foundation
import HTTPServer
import Outbox

/// A device as the admin API and the CLI show it.
public struct ClientView: Codable, Sendable, Equatable {
    public var sessionID: String
    public var mac: String
    /// Null for a device that has been seen only over IPv6.
    public var ipv4: String?
    /// Every IPv6 address the device's session covers (the address watcher adds new ones).
    public var ipv6: [String]
    public var method: String
    /// Its `[[firewall.tiers]]` (null: none).
    public var tier: String?
    public var subject: SessionSubject?
    public var startedAt: Date
    public var expiresAt: Date
    public var secondsRemaining: Int

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id", mac, ipv4, ipv6, method, tier, subject, startedAt = "started_at", expiresAt = "expires_at", secondsRemaining = "seconds_remaining"
    }

    init(_ session: Session, now: Date) {
        sessionID = session.id
        mac = session.mac.description
        ipv4 = session.ipv4?.description
        ipv6 = session.device.ipv6.map(\.description)
        method = session.method.rawValue
        tier = session.tier
        subject = session.subject
        startedAt = session.startedAt
        expiresAt = session.expiresAt
        secondsRemaining = session.isActive ? session.secondsRemaining(at: now) : 0  // an ended session has no time left
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sessionID, forKey: .sessionID)
        try container.encode(mac, forKey: .mac)
        try container.encode(ipv4, forKey: .ipv4)  // null, not absent
        try container.encode(ipv6, forKey: .ipv6)
        try container.encode(method, forKey: .method)
        try container.encode(tier, forKey: .tier)
        try container.encode(subject, forKey: .subject)  // null, not absent: the field is always there
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encode(secondsRemaining, forKey: .secondsRemaining)
    }
}

public struct ClientList: Codable, Sendable {
    public var clients: [ClientView]
}

/// What the clients resource needs: sessions, and the device's address when not given.
protocol ClientRepository: Sendable {
    func now() -> Date
    func activeSessions() throws -> [Session]
    func activeSession(mac: MACAddress) throws -> Session?
    func ipv4(of mac: MACAddress) -> IPv4Address?
    func authorize(mac: MACAddress, ipv4: IPv4Address, minutes: Int?) throws -> Session
    func deauthorize(mac: MACAddress) throws -> Session
    /// Every session, live or ended, whose access belongs to `subject` (a guest's data).
    func sessions(of subject: SessionSubject) throws -> [Session]
}

/// `/api/v1/clients…`: devices online, and staff's auth / deauth.
struct ClientsController {
    let repository: any ClientRepository

    func addRoutes(to api: DocumentedRoutes) {
        let read = api.scoped(AdminScope.clientsRead)
        read.get("/clients", APIOperation(summary: "Devices online", responses: [200: ("active sessions", "ClientList")])) { _, _ in
            let now = repository.now()
            return .json(ClientList(clients: try repository.activeSessions().map { ClientView($0, now: now) }))
        }
        read.get("/clients/{mac}", APIOperation(summary: "One device's session", responses: [
            200: ("session", "Client"), 400: ("not a MAC address", "Error"), 404: ("no active session", "Error"),
        ])) { _, context in
            let mac = try Self.mac(context)
            guard let session = try repository.activeSession(mac: mac) else { throw HTTPError.notFound("no active session for \(mac)") }
            return .json(ClientView(session, now: repository.now()))
        }
        let write = api.scoped(AdminScope.clientsWrite)
        write.post("/clients/{mac}/auth", APIOperation(summary: "Authorize a device", body: AdminSchemas.ref("AuthorizeRequest"), responses: [
            201: ("session", "Client"), 400: ("bad request", "Error"), 404: ("device not in the neighbour table", "Error"),
            409: ("the device is blocked", "Error"), 503: ("the firewall refused", "Error"),
        ])) { request, context in try authorize(request, context) }
        write.post("/clients/{mac}/deauth", APIOperation(summary: "End a device's session", responses: [
            200: ("ended session", "Client"), 400: ("not a MAC address", "Error"), 404: ("no active session", "Error"),
        ])) { _, context in
            .json(ClientView(try repository.deauthorize(mac: try Self.mac(context)), now: repository.now()))
        }
    }

    func authorize(_ request: HTTPRequest, _ context: AdminContext) throws -> HTTPResponse {
        struct Body: Decodable {
            var ipv4: String?
            var minutes: Int?
        }
        let mac = try Self.mac(context)
        var body = Body()
        if !request.body.isEmpty {
            let shape = "the body must be a JSON object {\"ipv4\"?: string, \"minutes\"?: integer}"
            // As documented (additionalProperties: false, no nulls): a misspelt field is an error, not ignored.
            guard case .object(let fields)? = JSONValue(json: request.body) else {
                throw HTTPError.badRequest("invalid_json", shape)
            }
            if let unknown = fields.keys.sorted().first(where: { $0 != "ipv4" && $0 != "minutes" }) {
                throw HTTPError.badRequest("unknown_field", "unknown field \"\(unknown)\": \(shape)")
            }
            if let null = fields.keys.sorted().first(where: { if case .null = fields[$0] { true } else { false } }) {
                throw HTTPError.badRequest("invalid_\(null)", "\(null) must not be null: \(shape)")
            }
            switch fields["ipv4"] {
            case nil: break
            case .string(let text)?: body.ipv4 = text
            default: throw HTTPError.badRequest("invalid_json", shape)
            }
            switch fields["minutes"] {
            case nil: break
            case .number(let number)? where number.rounded() == number && abs(number) < 1e15: body.minutes = Int(number)
            default: throw HTTPError.badRequest("invalid_json", shape)
            }
        }
        if let minutes = body.minutes, !Session.minutesRange.contains(minutes) {
            throw HTTPError.badRequest("invalid_minutes", "minutes must be between 1 and \(Session.minutesRange.upperBound)")
        }
        let ipv4: IPv4Address
        if let text = body.ipv4 {
            guard let parsed = IPv4Address(text) else { throw HTTPError.badRequest("invalid_ipv4", "\"\(text)\" is not an IPv4 address") }
            ipv4 = parsed
        } else {
            guard let found = repository.ipv4(of: mac) else {
                throw HTTPError.notFound("\(mac) is not in the LAN's neighbour table; pass \"ipv4\"", code: "device_not_found")
            }
            ipv4 = found
        }
        let session = try repository.authorize(mac: mac, ipv4: ipv4, minutes: body.minutes)
        return .json(ClientView(session, now: repository.now()), status: 201)
    }

    static func mac(_ context: AdminContext) throws -> MACAddress {
        let text = try context.parameters.require("mac")
        guard let mac = MACAddress(text) else {
            throw HTTPError.badRequest("invalid_mac", "\"\(text)\" is not a MAC address (aa:bb:cc:dd:ee:ff)")
        }
        return mac
    }
}

/// Sessions as the clients resource sees them.
struct SessionClientRepository: ClientRepository {
    let sessions: SessionService
    let neighbours: any NeighbourTable

    func now() -> Date { sessions.now() }
    func activeSessions() throws -> [Session] { try sessions.activeSessions() }
    func activeSession(mac: MACAddress) throws -> Session? { try sessions.activeSession(mac: mac) }
    func ipv4(of mac: MACAddress) -> IPv4Address? { neighbours.ipv4(for: mac) }
    func authorize(mac: MACAddress, ipv4: IPv4Address, minutes: Int?) throws -> Session {
        try sessions.login(mac: mac, ipv4: ipv4, method: .admin, minutes: minutes)
    }
    func deauthorize(mac: MACAddress) throws -> Session { try sessions.deauthorize(mac: mac) }
    func sessions(of subject: SessionSubject) throws -> [Session] { try sessions.sessions(of: subject) }
}
