import Firewall
import Foundation
import HTTPServer
import Logging

/// The portal's own pages: splash, terms login, status, the RFC 8908 API, the logo.
/// Pages that only render run on the listener's thread; what reads or writes
/// SQLite, the neighbour table or netlink is offloaded to the worker pool.
struct GuestController: Sendable {
    let publicURL: URL
    let sessions: SessionService
    let lan: GuestLAN
    let formToken: FormToken
    let pages: GuestPages
    /// Set when online check-in is served: the splash page offers it while bookings arrive.
    let checkinOffer: CheckinOffer?
    let logger: Logger

    func addRoutes(to group: RouterGroup<GuestContext>) {
        group.get("/") { request, context in splash(request, context) }
        Self.addLogo(of: pages, to: group)
        let blocking = group.group(execution: .offloaded)
        blocking.post("/login/terms") { request, context in try loginWithTerms(request, context) }
        blocking.get("/status") { request, context in status(request, context) }
        blocking.get("/api/captive") { request, _ in captiveAPI(request) }
    }

    /// The branding's logo, which every page's header shows. Both paths a logo may have are
    /// routed, since a reload may bring one (or another kind) after the routes are made.
    static func addLogo(of pages: GuestPages, to group: RouterGroup<GuestContext>) {
        for path in ["/assets/logo.png", "/assets/logo.svg"] {
            group.get(path) { _, _ in
                guard let logo = pages.logo, logo.path == path else { throw HTTPError.notFound("There is nothing at this address.") }
                // Short-lived: a reload may change it.
                return HTTPResponse(status: 200, headers: HTTPHeaders([("Content-Type", logo.contentType), ("Cache-Control", "public, max-age=300"),
                                                                       ("X-Content-Type-Options", "nosniff")]), body: logo.bytes)
            }
        }
    }

    func splash(_ request: HTTPRequest, _ context: GuestContext, error: String? = nil, status: Int = 200, url: String? = nil) -> HTTPResponse {
        // Asked only while some device is blocked: the splash is served on the listener's thread.
        if sessions.anyBlocked, let device = lan.device(at: request.clientAddress), sessions.isBlocked(device.mac) {
            return blocked(context)
        }
        var page = SplashPage(csrf: formToken.issue(purpose: "login", client: request.clientAddress, at: sessions.now()),
                              url: url ?? Self.safeDestination(request.query["url"]) ?? "", error: error)
        if let checkinOffer, checkinOffer.isOpen {
            page.checkin = pages.link("/arrive", language: context.language)
            page.checkinHint = pages.catalog(context.language).text(checkinOffer.withWiFi ? "splash.checkin.hint" : "splash.checkin.hint_no_wifi")
        }
        // The other languages keep where the guest was going.
        let here = "/" + (page.url.isEmpty ? "" : "?url=" + FormData.encode(page.url))
        return .html(pages.render(page, language: context.language, path: here), status: status)
    }

    func loginWithTerms(_ request: HTTPRequest, _ context: GuestContext) throws -> HTTPResponse {
        let catalog = pages.catalog(context.language)
        guard let form = request.form else {
            throw HTTPError(415, code: "unsupported_form", message: "send the login form (application/x-www-form-urlencoded)")
        }
        let destination = Self.safeDestination(form["url"])
        guard let token = form["csrf"], formToken.verify(token, purpose: "login", client: request.clientAddress, at: sessions.now()) else {
            sessions.metrics.login(.terms, .refused)
            return splash(request, context, error: catalog.text("splash.error.expired"), status: 403, url: destination)
        }
        guard form["accept"] == "yes" else {
            sessions.metrics.login(.terms, .refused)
            return splash(request, context, error: catalog.text("splash.error.not_accepted"), status: 400, url: destination)
        }
        guard let device = lan.device(at: request.clientAddress) else {
            logger.warning("login without a neighbour entry", metadata: ["address": "\(request.clientAddress)"])
            throw HTTPError(400, code: "device", message: "no neighbour entry for \(request.clientAddress)")
        }
        let mac = device.mac
        let session: Session
        do {
            session = try sessions.login(mac: mac, address: device.address, method: .terms)
        } catch let error as SessionError where error.kind == .blocked {
            logger.notice("a blocked device tried to log in", metadata: ["mac": "\(mac)"])
            return blocked(context)
        } catch {
            logger.error("login failed", metadata: ["mac": "\(mac)", "error": "\(error)"])
            throw HTTPError(503, code: "login_failed", message: "the login could not be completed")
        }
        return .html(pages.render(online(session, url: destination, language: context.language), language: context.language))
    }

    /// What a blocked device sees instead of the splash page: no form, no way on.
    func blocked(_ context: GuestContext) -> HTTPResponse {
        let catalog = pages.catalog(context.language)
        return .html(pages.render(MessagePage(heading: catalog.text("blocked.heading"), message: catalog.text("blocked.message"),
                                              link: nil, linkText: nil), language: context.language), status: 403)
    }

    func status(_ request: HTTPRequest, _ context: GuestContext) -> HTTPResponse {
        if let session = currentSession(request) {
            return .html(pages.render(online(session, url: nil, language: context.language), language: context.language))
        }
        let catalog = pages.catalog(context.language)
        return .html(pages.render(MessagePage(heading: catalog.text("status.offline.heading"), message: catalog.text("status.offline.message"),
                                              link: pages.link("/", language: context.language),
                                              linkText: catalog.text("link.login")), language: context.language))
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

    func online(_ session: Session, url: String?, language: String) -> OnlinePage {
        let catalog = pages.catalog(language)
        let minutes = (session.secondsRemaining(at: sessions.now()) + 59) / 60
        return OnlinePage(validUntil: catalog.text("online.valid_until", ["expires": pages.dateTime(session.expiresAt, language: language)]),
                          timeLeft: catalog.text("online.time_left", count: minutes), url: url,
                          continueText: url.map { catalog.text("online.continue", ["url": $0]) })
    }

    func currentSession(_ request: HTTPRequest) -> Session? {
        guard let device = lan.device(at: request.clientAddress),
              let session = try? sessions.activeSession(mac: device.mac), session.device.addresses.contains(device.address),
              session.expiresAt > sessions.now() else { return nil }
        return session
    }

    /// Only absolute http(s) URLs of sane length are followed after login.
    static func safeDestination(_ text: String?) -> String? {
        guard let text, text.count <= 2048, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
              scheme == "http" || scheme == "https", url.host?.isEmpty == false else { return nil }
        return text
    }
}
