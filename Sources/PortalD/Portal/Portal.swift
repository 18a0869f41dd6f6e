import Firewall
import Foundation
import Logging

/// The guest side: captures every request that is not for the portal, serves the
/// splash page and the login, and answers the RFC 8908 captive API.
public final class Portal: Sendable {
    let siteName: String
    let publicURL: URL
    /// `host:port` forms under which a request is for the portal rather than captured.
    let portalAuthorities: Set<String>
    /// The public URL with a path and without a query: where captured requests go.
    let portalHome: String
    let sessions: SessionService
    let neighbours: NeighbourTable
    let formToken: FormToken
    /// With `backend = "none"` there may be no ARP entry (a laptop, loopback): a
    /// stable locally administered MAC is derived from the address instead.
    let derivesMissingMAC: Bool
    let pages = PortalPages()
    let logger: Logger

    init(config: Config, sessions: SessionService, neighbours: NeighbourTable, formKey: [UInt8], logger: Logger) {
        siteName = config.site.name
        publicURL = config.portal.publicURL
        let scheme = config.portal.publicURL.scheme?.lowercased() ?? "http"
        let port = config.portal.publicURL.port ?? (scheme == "https" ? 443 : 80)
        let host = config.portal.publicURL.host?.lowercased() ?? ""
        var authorities: Set<String> = ["\(host):\(port)", "\(config.portal.captureAddress):\(config.portal.listen.port)"]
        if config.portal.listen.host != "0.0.0.0" && config.portal.listen.host != "::" {
            authorities.insert(config.portal.listen.description.lowercased())
        }
        portalAuthorities = authorities
        var base = URLComponents(url: config.portal.publicURL, resolvingAgainstBaseURL: false)!
        if base.path.isEmpty { base.path = "/" }
        base.query = nil
        portalHome = base.string ?? config.portal.publicURL.absoluteString
        self.sessions = sessions
        self.neighbours = neighbours
        formToken = FormToken(key: formKey)
        derivesMissingMAC = config.firewall.backend == .none
        self.logger = logger
    }

    /// The listener's handler: captured requests are redirected, the rest routed.
    public func makeHandler() -> Router.Handler {
        let router = makeRouter()
        return { [self] request in isForPortal(request) ? router.handle(request) : captured(request) }
    }

    private func makeRouter() -> Router {
        var router = Router(
            notFound: { [self] _ in
                message(status: 404, heading: "Page not found", message: "There is nothing at this address.", link: "/", linkText: "Go to the WiFi login")
            },
            methodNotAllowed: { [self] _, allowed in
                var response = message(status: 405, heading: "Not allowed", message: "This page does not accept that request.", link: "/", linkText: "Go to the WiFi login")
                response.headers.add("Allow", (allowed + (allowed.contains("GET") ? ["HEAD"] : [])).joined(separator: ", "))
                return response
            })
        router.get("/") { [self] in splash($0) }
        router.post("/login/terms") { [self] in loginWithTerms($0) }
        router.get("/status") { [self] in status($0) }
        router.get("/api/captive") { [self] in captiveAPI($0) }
        return router
    }

    // MARK: Capture

    func isForPortal(_ request: HTTPRequest) -> Bool {
        guard let host = request.headers["host"]?.lowercased(), !host.isEmpty else { return false }
        // Character-based checks: String.contains(String) goes through Foundation, slowly.
        let hasPort = host.last != "]" && host.utf8.contains(UInt8(ascii: ":"))
        return portalAuthorities.contains(hasPort ? host : host + ":80")
    }

    /// Any request for another site: send the browser to the portal, keeping where it
    /// wanted to go. A redirect (not a 200) is what makes every phone OS open its sheet.
    func captured(_ request: HTTPRequest) -> HTTPResponse {
        guard let host = request.headers["host"], !host.isEmpty, request.method == "GET" || request.method == "HEAD" else {
            return .redirect(to: portalHome)
        }
        return .redirect(to: portalHome + "?url=" + FormData.encode("http://" + host + request.target))
    }

    // MARK: Pages

    func splash(_ request: HTTPRequest, error: String? = nil, status: Int = 200, url: String? = nil) -> HTTPResponse {
        var values: [String: Any] = [
            "site": siteName,
            "csrf": formToken.issue(purpose: "login", client: request.clientAddress, at: sessions.now()),
            "url": url ?? Self.safeDestination(request.query["url"]) ?? "",
        ]
        if let error { values["error"] = error }
        return .html(pages.render("splash", values), status: status)
    }

    func loginWithTerms(_ request: HTTPRequest) -> HTTPResponse {
        guard let form = request.form else {
            return message(status: 415, heading: "Unsupported form", message: "Please use the login page to connect.", link: "/", linkText: "Go to the WiFi login")
        }
        let destination = Self.safeDestination(form["url"])
        guard let token = form["csrf"], formToken.verify(token, purpose: "login", client: request.clientAddress, at: sessions.now()) else {
            return splash(request, error: "This page had expired. Please accept the terms again.", status: 403, url: destination)
        }
        guard form["accept"] == "yes" else {
            return splash(request, error: "Please accept the terms of use to continue.", status: 400, url: destination)
        }
        guard let ipv4 = IPv4Address(request.clientAddress) else {
            return message(status: 400, heading: "Cannot connect this device",
                           message: "Your device reached the portal over IPv6. Please turn WiFi off and on again, then retry.",
                           link: "/", linkText: "Try again")
        }
        guard let mac = device(for: ipv4) else {
            logger.warning("login without a neighbour entry", metadata: ["ipv4": "\(ipv4)"])
            return message(status: 400, heading: "Cannot identify your device",
                           message: "Please make sure you are connected to the hotel WiFi, then try again.",
                           link: "/", linkText: "Try again")
        }
        do {
            let session = try sessions.login(mac: mac, ipv4: ipv4, method: .terms)
            var values: [String: Any] = ["site": siteName, "expires": Self.displayTime(session.expiresAt)]
            if let destination { values["url"] = destination }
            return .html(pages.render("online", values))
        } catch {
            logger.error("login failed", metadata: ["mac": "\(mac)", "error": "\(error)"])
            return message(status: 503, heading: "We could not connect you",
                           message: "Something went wrong on our side. Please try again in a moment.", link: "/", linkText: "Try again")
        }
    }

    func status(_ request: HTTPRequest) -> HTTPResponse {
        if let session = currentSession(request) {
            return .html(pages.render("online", ["site": siteName, "expires": Self.displayTime(session.expiresAt)]))
        }
        return message(status: 200, heading: "You are not online yet", message: "Accept the terms of use to connect.", link: "/", linkText: "Go to the WiFi login")
    }

    /// RFC 8908: `captive`, `user-portal-url`, and the time left once online.
    func captiveAPI(_ request: HTTPRequest) -> HTTPResponse {
        struct CaptiveStatus: Encodable {
            var captive: Bool
            var userPortalURL: String
            var secondsRemaining: Int?
            var canExtendSession: Bool?
            enum CodingKeys: String, CodingKey {
                case captive, userPortalURL = "user-portal-url", secondsRemaining = "seconds-remaining", canExtendSession = "can-extend-session"
            }
        }
        var body = CaptiveStatus(captive: true, userPortalURL: publicURL.absoluteString)
        if let session = currentSession(request) {
            body.captive = false
            body.secondsRemaining = session.secondsRemaining(at: sessions.now())
            body.canExtendSession = false
        }
        var response = HTTPResponse.json(body, contentType: "application/captive+json")
        response.headers.add("Access-Control-Allow-Origin", "*")
        return response
    }

    // MARK: Helpers

    func currentSession(_ request: HTTPRequest) -> Session? {
        guard let ipv4 = IPv4Address(request.clientAddress), let mac = device(for: ipv4),
              let session = try? sessions.activeSession(mac: mac), session.ipv4 == ipv4.description,
              session.expiresAt > sessions.now() else { return nil }
        return session
    }

    func device(for ipv4: IPv4Address) -> MACAddress? {
        if let mac = neighbours.mac(for: ipv4) { return mac }
        return derivesMissingMAC ? MACAddress(bytes: [0x02, 0x00] + ipv4.octets) : nil
    }

    func message(status: Int, heading: String, message: String, link: String, linkText: String) -> HTTPResponse {
        .html(pages.render("message", ["site": siteName, "heading": heading, "message": message, "link": link, "linkText": linkText]), status: status)
    }

    /// Only absolute http(s) URLs of sane length are followed after login.
    static func safeDestination(_ text: String?) -> String? {
        guard let text, text.count <= 2048, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", url.host?.isEmpty == false else { return nil }
        return text
    }

    static func displayTime(_ date: Date) -> String {
        date.formatted(Date.VerbatimFormatStyle(format: "\(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits), \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits)",
                                                timeZone: .gmt, calendar: Calendar(identifier: .gregorian)))
    }
}
