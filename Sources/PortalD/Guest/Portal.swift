import Arrivals
import Firewall
import Foundation
import HTTPServer
import Logging
import Outbox

/// The guest listener: captures every request that is not for the portal (a 302
/// to the portal, answered on the server's thread without routing: the hot path,
/// see `CaptiveRedirect`), and routes the rest to the guest pages.
public final class Portal: HTTPResponder {
    let capture: CaptiveRedirect
    let pages: GuestPages
    let locale: GuestLocale
    let metrics: PortalMetrics?
    private let router: RouterResponder<GuestContext>

    /// `reservations`: online check-in's way in (`/arrive`, `/arrive/{token}`) is served when
    /// given; `checkins`: and its steps. `lookups`: "find my booking"'s per-reservation
    /// throttle, shared with `[arrivals] listen`.
    init(config: Config, sessions: SessionService, neighbours: any NeighbourTable, formKey: [UInt8], pages: GuestPages,
         reservations: Reservations? = nil, checkins: Checkins? = nil, lookups: LookupThrottle = LookupThrottle(), metrics: PortalMetrics? = nil,
         logger: Logger) {
        self.metrics = metrics
        capture = CaptiveRedirect(publicURL: config.portal.publicURL, captureAddress: config.portal.captureAddress,
                                  listen: config.portal.listen, listenIPv6: config.portal.listenIPv6)
        self.pages = pages
        let locale = GuestLocale(available: Set(pages.catalogs.keys), fallback: pages.defaultLanguage)
        self.locale = locale

        let lan = GuestLAN(neighbours: neighbours, derivesMissingMAC: config.firewall.backend == .none)
        let controller = GuestController(
            publicURL: config.portal.publicURL, sessions: sessions, lan: lan, formToken: FormToken(key: formKey), pages: pages,
            checkinOffer: reservations != nil ? checkins.map { CheckinOffer(checkins: $0, withWiFi: config.arrivals.wifiAtArrival) } : nil,
            logger: logger)
        let router = GuestErrors.router(locale: locale, pages: pages, logger: logger, failure: "guest request failed")
        let guestRoutes = router.group().add(middleware: locale)
        controller.addRoutes(to: guestRoutes)
        if let reservations {
            let wifi = ArrivalWiFi.forSite(config, sessions: sessions, lan: lan, logger: logger)
            CheckinRoutes(config: config, reservations: reservations, checkins: checkins, formKey: formKey, lookups: lookups, pages: pages, logger: logger)
                .add(to: guestRoutes, wifi: wifi, throttleLabel: "check-in links", lan: lan)
        }
        self.router = router.responder(observer: metrics?.requests(listener: "portal"))
    }

    /// `path` with a check-in link's or a claim's token replaced: a token in a log is a
    /// way into a guest's registration data.
    static func loggable(_ path: String) -> String {
        for prefix in ["/arrive/", "/claim/"] where path.hasPrefix(prefix) {
            let rest = path.dropFirst(prefix.count)
            return prefix + "{token}" + (rest.firstIndex(of: "/").map { String(rest[$0...]) } ?? "")
        }
        return path
    }

    /// Wrong check-in links and failed booking lookups an address may make a minute: a
    /// guest mistypes a few times; a 144-bit link or a reference with a surname is not
    /// found by trying at this rate.
    static let guessesPerMinute = 10

    public func respond(to request: HTTPRequest) -> HTTPReply {
        respondEarly(method: request.method, target: request.target, host: request.headers["host"]).map { .now($0) }
            ?? router.respond(to: request)
    }

    /// A request for another host is answered from its first line and Host header alone.
    public func respondEarly(method: HTTPMethod, target: String, host: String?) -> HTTPResponse? {
        if let host, capture.isPortal(host: host) { return nil }
        let response = capture.response(host: host, target: target, method: method)
        metrics?.captured(status: response.status)
        return response
    }

    public func respond(to error: HTTPError, for request: HTTPRequest) -> HTTPResponse {
        GuestErrors.page(for: error, language: locale.language(for: request), pages: pages)
    }

    func isForPortal(_ request: HTTPRequest) -> Bool {
        request.headers["host"].map(capture.isPortal) ?? false
    }
}

/// Errors as guests see them: a page in their language. The heading and sentence
/// come from the catalog by the error's code (`error.device.heading`), else by its
/// status (`error.404.heading`), else a generic one.
enum GuestErrors {
    /// A router for guest pages whose errors are such pages; an unexpected error is logged
    /// as `failure` (a token cut from the path) with the id its page shows.
    static func router(locale: GuestLocale, pages: GuestPages, logger: Logger, failure: Logger.Message) -> Router<GuestContext> {
        Router(context: GuestContext.self, errors: { error, request in
            page(for: error, language: locale.language(for: request), pages: pages)
        }, unexpected: { error, request in
            let id = HTTPError.newRequestID()
            logger.error(failure, metadata: ["path": "\(Portal.loggable(request.path))", "error": "\(error)", "request_id": "\(id)"])
            return .internalError(requestID: id)
        })
    }

    static func page(for error: HTTPError, language: String, pages: GuestPages) -> HTTPResponse {
        let catalog = pages.catalog(language)
        let key = catalog.messages["error.\(error.code).heading"] != nil ? "error.\(error.code)"
            : catalog.messages["error.\(error.status).heading"] != nil ? "error.\(error.status)" : "error.500"
        let home = pages.link("/", language: language)
        let linkText = [404, 405, 413].contains(error.status) || error.code == "unsupported_form" ? "link.login" : "link.retry"
        let page = MessagePage(heading: catalog.text(key + ".heading"), message: catalog.text(key + ".message"),
                               link: home, linkText: catalog.text(linkText))
        var response = HTTPResponse.html(pages.render(page, language: language), status: error.status)
        response.addHeaders(of: error)
        return response
    }
}

extension HTTPResponse {
    /// A JSON body in portald's conventions (RFC 3339 times, sorted keys).
    static func json<T: Encodable>(_ value: T, status: Int = 200, contentType: String = "application/json") -> HTTPResponse {
        .json(bytes: JSON.bytes(value), status: status, contentType: contentType)
    }
}
