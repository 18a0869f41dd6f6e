import Arrivals
import Foundation
import HTTPServer
import Logging
import Outbox

/// The admin listener (loopback by default): `/api/v1`, bearer tokens with scopes,
/// JSON errors `{"error": {"code", "message"}}`, and the OpenAPI document built
/// from the same route declarations.
final class AdminAPI: HTTPResponder {
    /// What the router answers, for checks against the document.
    let routes: [RouteDescription]
    let document: OpenAPIBuilder
    private let responder: RouterResponder<AdminContext>

    static let prefix = "/api/v1"

    /// `health` gives housekeeping's last report (the route itself checks nothing).
    /// `credentials`: the local CLI's and the config's tokens; `tokens`: those made through the API.
    init(credentials: AdminCredentials, tokens: APITokens, rateLimitPerMinute: Int = 60,
         clients: any ClientRepository, outbox: any OutboxRepository, reservations: any ReservationRepository,
         checkins: Checkins, idempotencyKeys: IdempotencyKeys, inbound: InboundController? = nil, firewall: FirewallStatus? = nil,
         health: @escaping @Sendable () -> (report: HealthReport, at: Date)?, throttle: AuthFailureThrottle? = nil,
         limiter: RequestRateLimiter = RequestRateLimiter(), metrics: MetricsScrape? = nil, metricsToken: Bool = false,
         status: StatusSource? = nil, logger: Logger) {
        let throttle = throttle ?? AuthFailureThrottle(logger: logger)
        let router = Router(context: AdminContext.self, errors: { error, _ in .plainJSON(error) }, unexpected: { error, request in
            let id = HTTPError.newRequestID()
            logger.error("admin request failed", metadata: ["path": "\(request.path)", "error": "\(error)", "request_id": "\(id)"])
            return .internalError(requestID: id)
        })
        let document = OpenAPIBuilder()
        // Every admin route touches SQLite or netlink: all run on the worker pool.
        let api = router.group(Self.prefix, execution: .offloaded)
        let open = DocumentedRoutes(group: api, document: document, prefix: Self.prefix, scope: nil, logger: logger)
        open.get("/health", APIOperation(summary: "Whether the store, the nft table, webhook delivery and the portal work (checked every 10 s)",
                                         responses: [200: ("every check passed", "Health"), 503: ("a check failed, or none has run yet; `checks` says what", "Health")])) { _, _ in
            guard let (report, at) = health() else {
                return .json(HealthReport.View(status: "starting", checks: [:], checkedAt: nil), status: 503)
            }
            return .json(report.view(checkedAt: at), status: report.healthy ? 200 : 503)
        }
        let authentication = BearerAuthentication(credentials: credentials, tokens: tokens, defaultRateLimit: rateLimitPerMinute,
                                                  throttle: throttle)
        let authenticated = DocumentedRoutes(group: api.group(middleware: [authentication, RateLimiting(limiter: limiter)]),
                                             document: document, prefix: Self.prefix, scope: nil, logger: logger)
        ClientsController(repository: clients).addRoutes(to: authenticated)
        if let rules = clients as? any DeviceRuleRepository {  // the sessions' repository keeps them
            DeviceRulesController(repository: rules).addRoutes(to: authenticated)
        }
        if let firewall { FirewallController(status: firewall).addRoutes(to: authenticated) }
        if let status { StatusController(source: status).addRoutes(to: authenticated) }
        OutboxController(repository: outbox).addRoutes(to: authenticated)
        WebhookEndpointsController(repository: outbox).addRoutes(to: authenticated)
        ReservationsController(repository: reservations, checkins: checkins, keys: idempotencyKeys).addRoutes(to: authenticated)
        PersonalDataController(repository: reservations, checkins: checkins, clients: clients).addRoutes(to: authenticated)
        TokensController(tokens: tokens, fixed: credentials, defaultRateLimit: rateLimitPerMinute).addRoutes(to: authenticated)
        // Sources prove themselves with their own signature or token, not an admin token.
        (inbound ?? InboundController(sources: [], repository: reservations, throttle: AuthFailureThrottle(label: "inbound", logger: logger),
                                      logger: logger, timeZone: .gmt, now: { Date() })).addRoutes(to: open)
        if let metrics {
            // Beside /api/v1, where Prometheus looks by default.
            let root = router.group(execution: .offloaded)
            let routes = metricsToken
                ? DocumentedRoutes(group: root.group(middleware: [authentication, RateLimiting(limiter: limiter)]), document: document, prefix: "",
                                   scope: nil, logger: logger).scoped(AdminScope.metricsRead)
                : DocumentedRoutes(group: root, document: document, prefix: "", scope: nil, logger: logger)
            MetricsController(scrape: metrics).addRoutes(to: routes)
        }
        // The document describes every route above; it is itself public and documented.
        let served = DocumentJSON()
        open.get("/openapi.json", APIOperation(summary: "This document", responses: [200: ("OpenAPI 3 document", nil)])) { _, _ in
            .json(bytes: served.bytes)
        }
        served.bytes = Array(JSON.encode(document.document(version: Daemon.version)))
        self.routes = router.routes
        self.document = document
        self.responder = router.responder(observer: metrics?.metrics.requests(listener: "admin"))
    }

    func respond(to request: HTTPRequest) -> HTTPReply { responder.respond(to: request) }
    func respond(to error: HTTPError, for request: HTTPRequest) -> HTTPResponse { .plainJSON(error) }
}

/// The serialized document, written once after every route is registered.
private final class DocumentJSON: @unchecked Sendable {
    var bytes: [UInt8] = []
}
