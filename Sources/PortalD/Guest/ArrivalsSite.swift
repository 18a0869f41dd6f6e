import Arrivals
import Foundation
import HTTPServer
import Logging

/// `[arrivals] listen`: online check-in alone, for guests at home, meant to sit behind
/// the hotel's reverse proxy. No capture, no splash page or login, and no WiFi: a
/// request here never lets a device on, whatever address it comes from. The guest's
/// address (throttles, the terms signature's record) is the X-Forwarded-For of a
/// connection from `[arrivals] trusted_proxies`, else the connection's.
public final class ArrivalsSite: HTTPResponder {
    let pages: GuestPages
    let locale: GuestLocale
    let forwarded: ForwardedFor
    private let router: RouterResponder<GuestContext>

    init(config: Config, reservations: Reservations, checkins: Checkins, sessions: SessionService, formKey: [UInt8], lookups: LookupThrottle,
         pages: GuestPages, metrics: PortalMetrics? = nil, logger: Logger) {
        self.pages = pages
        let locale = GuestLocale(available: Set(pages.catalogs.keys), fallback: pages.defaultLanguage)
        self.locale = locale
        forwarded = ForwardedFor(trusted: config.arrivals.trustedProxies)
        let router = GuestErrors.router(locale: locale, pages: pages, logger: logger, failure: "check-in request failed")
        let group = router.group().add(middleware: locale)
        // The site's address alone: "find my booking".
        group.get("/") { _, context in .redirect(to: pages.link("/arrive", language: context.language), status: 303) }
        GuestController.addLogo(of: pages, to: group)
        CheckinRoutes(config: config, reservations: reservations, checkins: checkins, formKey: formKey, lookups: lookups, pages: pages, logger: logger)
            // No LAN: the done page says where the stay's WiFi is, and connects nothing.
            .add(to: group, wifi: ArrivalWiFi.forSite(config, sessions: sessions, lan: nil, logger: logger),
                 throttleLabel: "check-in links (arrivals listener)", lan: nil)
        self.router = router.responder(observer: metrics?.requests(listener: "arrivals"))
    }

    public func respond(to request: HTTPRequest) -> HTTPReply {
        var request = request
        request.clientAddress = forwarded.client(of: request)
        return router.respond(to: request)
    }

    public func respond(to error: HTTPError, for request: HTTPRequest) -> HTTPResponse {
        GuestErrors.page(for: error, language: locale.language(for: request), pages: pages)
    }
}
