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
    /// The address the LAN's neighbour table knows for `mac` (IPv4 first).
    func address(of mac: MACAddress) -> IPAddress?
    /// `tier`: nil, the default tier (`[portal] tier`); `.some(nil)`, none.
    func authorize(mac: MACAddress, address: IPAddress, minutes: Int?, tier: String??) throws -> Session
    /// The configured tiers' names (`[[firewall.tiers]]`).
    var tiers: Set<String> { get }
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
            409: ("the device is blocked", "Error"), 422: ("no such tier", "Error"), 503: ("the firewall refused", "Error"),
        ])) { request, context in try authorize(request, context) }
        write.post("/clients/{mac}/deauth", APIOperation(summary: "End a device's session", responses: [
            200: ("ended session", "Client"), 400: ("not a MAC address", "Error"), 404: ("no active session", "Error"),
        ])) { _, context in
            .json(ClientView(try repository.deauthorize(mac: try Self.mac(context)), now: repository.now()))
        }
    }

    func authorize(_ request: HTTPRequest, _ context: AdminContext) throws -> HTTPResponse {
        let mac = try Self.mac(context)
        let body = try AuthorizeBody(request.body, tiers: repository.tiers)
        guard let address = body.address ?? repository.address(of: mac) else {
            throw HTTPError.notFound("\(mac) is not in the LAN's neighbour table; pass \"ipv4\" or \"ipv6\"", code: "device_not_found")
        }
        let session = try repository.authorize(mac: mac, address: address, minutes: body.minutes, tier: body.tier)
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
    var tiers: Set<String> { tierNames() }
    /// The configured tiers' names as they are now (a reload changes them).
    let tierNames: @Sendable () -> Set<String>

    init(sessions: SessionService, neighbours: any NeighbourTable, tiers: Set<String> = []) {
        self.init(sessions: sessions, neighbours: neighbours, tierNames: { tiers })
    }

    init(sessions: SessionService, neighbours: any NeighbourTable, tierNames: @escaping @Sendable () -> Set<String>) {
        self.sessions = sessions
        self.neighbours = neighbours
        self.tierNames = tierNames
    }

    func address(of mac: MACAddress) -> IPAddress? { neighbours.address(for: mac) }
    func authorize(mac: MACAddress, address: IPAddress, minutes: Int?, tier: String??) throws -> Session {
        try sessions.login(mac: mac, address: address, method: .admin, minutes: minutes, tier: tier)
    }
    func deauthorize(mac: MACAddress) throws -> Session { try sessions.deauthorize(mac: mac) }
    func sessions(of subject: SessionSubject) throws -> [Session] { try sessions.sessions(of: subject) }
}
