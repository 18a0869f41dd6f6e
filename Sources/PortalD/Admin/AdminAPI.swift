import Firewall
import Foundation
import Logging

/// A device as the admin API and the CLI show it.
public struct ClientView: Codable, Sendable, Equatable {
    public var sessionID: String
    public var mac: String
    public var ipv4: String
    public var method: String
    public var startedAt: Date
    public var expiresAt: Date
    public var secondsRemaining: Int

    enum CodingKeys: String, CodingKey {
        case sessionID = "session_id", mac, ipv4, method, startedAt = "started_at", expiresAt = "expires_at", secondsRemaining = "seconds_remaining"
    }

    init(_ session: Session, now: Date) {
        sessionID = session.id
        mac = session.mac
        ipv4 = session.ipv4
        method = session.method.rawValue
        startedAt = session.startedAt
        expiresAt = session.expiresAt
        secondsRemaining = session.secondsRemaining(at: now)
    }
}

public struct ClientList: Codable, Sendable {
    public var clients: [ClientView]
}

/// `{"error": {"code", "message"}}`, the shape of every admin API error.
public struct APIError: Codable, Sendable, Error {
    public struct Body: Codable, Sendable {
        public var code: String
        public var message: String
    }
    public var error: Body
    public init(code: String, message: String) { error = Body(code: code, message: message) }
}

/// The admin listener (loopback by default): bearer tokens with scopes.
public final class AdminAPI: Sendable {
    struct Credential: Sendable {
        let name: String
        let secret: [UInt8]
        let scopes: Set<String>
    }

    let credentials: [Credential]
    let sessions: SessionService
    let neighbours: NeighbourTable
    let outbox: Outbox
    let webhooks: WebhooksConfig
    let logger: Logger

    init(tokens: [Config.AdminToken], localToken: String, sessions: SessionService, neighbours: NeighbourTable,
         outbox: Outbox, webhooks: WebhooksConfig, logger: Logger) {
        credentials = [Credential(name: "local-cli", secret: Array(localToken.utf8), scopes: [AdminScope.all])]
            + tokens.map { Credential(name: $0.name, secret: Array($0.token.utf8), scopes: $0.scopes) }
        self.sessions = sessions
        self.neighbours = neighbours
        self.outbox = outbox
        self.webhooks = webhooks
        self.logger = logger
    }

    public func makeHandler() -> Router.Handler {
        var router = Router(
            notFound: { _ in Self.error(404, "not_found", "no such endpoint") },
            methodNotAllowed: { request, allowed in
                var response = Self.error(405, "method_not_allowed", "\(request.method) is not allowed here; use \(allowed.joined(separator: ", "))")
                response.headers.add("Allow", allowed.joined(separator: ", "))
                return response
            })
        router.get("/api/v1/health") { _ in .json(["status": "ok"]) }
        router.get("/api/v1/openapi.json") { _ in HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/json")]), body: Array(OpenAPIDocument.json.utf8)) }
        router.get("/api/v1/clients") { [self] request in
            authorized(request, AdminScope.clientsRead) { listClients() }
        }
        router.get("/api/v1/clients/:mac") { [self] request in
            authorized(request, AdminScope.clientsRead) { try showClient(request.parameters["mac"] ?? "") }
        }
        router.post("/api/v1/clients/:mac/auth") { [self] request in
            authorized(request, AdminScope.clientsWrite) { try authorize(request) }
        }
        router.post("/api/v1/clients/:mac/deauth") { [self] request in
            authorized(request, AdminScope.clientsWrite) { try deauthorize(request.parameters["mac"] ?? "") }
        }
        addOutboxRoutes(to: &router)
        let routes = router
        return { routes.handle($0) }
    }

    // MARK: Endpoints

    func listClients() -> HTTPResponse {
        do {
            let now = sessions.now()
            return .json(ClientList(clients: try sessions.activeSessions().map { ClientView($0, now: now) }))
        } catch {
            return Self.error(500, "store_error", "cannot read sessions: \(error)")
        }
    }

    func showClient(_ text: String) throws -> HTTPResponse {
        let mac = try Self.mac(text)
        guard let session = try sessions.activeSession(mac: mac) else {
            throw APIError(code: "not_found", message: "no active session for \(mac)")
        }
        return .json(ClientView(session, now: sessions.now()))
    }

    func authorize(_ request: HTTPRequest) throws -> HTTPResponse {
        struct Body: Decodable {
            var ipv4: String?
            var minutes: Int?
        }
        let mac = try Self.mac(request.parameters["mac"] ?? "")
        var body = Body()
        if !request.body.isEmpty {
            do {
                body = try JSONDecoder().decode(Body.self, from: Data(request.body))
            } catch {
                throw APIError(code: "invalid_json", message: "the body must be a JSON object {\"ipv4\"?: string, \"minutes\"?: integer}")
            }
        }
        if let minutes = body.minutes, !(1...(366 * 24 * 60)).contains(minutes) {
            throw APIError(code: "invalid_minutes", message: "minutes must be between 1 and 527040")
        }
        let ipv4: IPv4Address
        if let text = body.ipv4 {
            guard let parsed = IPv4Address(text) else { throw APIError(code: "invalid_ipv4", message: "\"\(text)\" is not an IPv4 address") }
            ipv4 = parsed
        } else {
            guard let found = neighbours.ipv4(for: mac) else {
                throw APIError(code: "device_not_found", message: "\(mac) is not in the LAN's neighbour table; pass \"ipv4\"")
            }
            ipv4 = found
        }
        let session = try sessions.login(mac: mac, ipv4: ipv4, method: .admin, minutes: body.minutes)
        return .json(ClientView(session, now: sessions.now()), status: 201)
    }

    func deauthorize(_ text: String) throws -> HTTPResponse {
        let mac = try Self.mac(text)
        let session = try sessions.deauthorize(mac: mac)
        return .json(ClientView(session, now: sessions.now()))
    }

    // MARK: Plumbing

    func authorized(_ request: HTTPRequest, _ scope: String, _ body: () throws -> HTTPResponse) -> HTTPResponse {
        guard let header = request.headers["authorization"], header.lowercased().hasPrefix("bearer ") else {
            var response = Self.error(401, "unauthorized", "send Authorization: Bearer <token>")
            response.headers.add("WWW-Authenticate", "Bearer realm=\"portald\"")
            return response
        }
        let presented = Array(header.dropFirst(7).trimmingCharacters(in: .whitespaces).utf8)
        guard let credential = credentials.first(where: { Crypto.constantTimeEqual($0.secret, presented) }) else {
            var response = Self.error(401, "unauthorized", "unknown token")
            response.headers.add("WWW-Authenticate", "Bearer realm=\"portald\", error=\"invalid_token\"")
            return response
        }
        guard credential.scopes.contains(AdminScope.all) || credential.scopes.contains(scope) else {
            return Self.error(403, "forbidden", "token \"\(credential.name)\" lacks the scope \(scope)")
        }
        do {
            return try body()
        } catch let error as APIError {
            let status = switch error.error.code {
            case "not_found", "device_not_found": 404
            default: 400
            }
            return .json(error, status: status)
        } catch let error as SessionError {
            switch error.kind {
            case .notFound: return Self.error(404, "not_found", error.description)
            case .firewall: return Self.error(503, "firewall_error", error.description)
            case .store: return Self.error(500, "store_error", error.description)
            }
        } catch {
            logger.error("admin request failed", metadata: ["path": "\(request.path)", "error": "\(error)"])
            return Self.error(500, "internal_error", "\(error)")
        }
    }

    static func mac(_ text: String) throws -> MACAddress {
        guard let mac = MACAddress(text) else {
            throw APIError(code: "invalid_mac", message: "\"\(text)\" is not a MAC address (aa:bb:cc:dd:ee:ff)")
        }
        return mac
    }

    static func error(_ status: Int, _ code: String, _ message: String) -> HTTPResponse {
        .json(APIError(code: code, message: message), status: status)
    }
}
