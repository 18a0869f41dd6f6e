import Arrivals
import Firewall
import Foundation
import Logging
import Outbox
import Store
@testable import HTTPServer
@testable import PortalD

/// Reservations over a test store, links under a fixed public URL.
func testReservations(_ store: Store) -> Reservations {
    Reservations(store: store, timeZone: TimeZone(identifier: "Europe/Madrid")!, linkBase: URL(string: "https://checkin.example.com")!)
}

/// The admin API over a test store, for router-level tests: what a test does not name is
/// the daemon's own, over `store` (sessions on an in-memory firewall, no neighbours).
func makeAdminAPI(store: Store, credentials: [AdminCredential], outbox: Outbox = Outbox(siteID: "h", endpoints: []),
                  tokens: APITokens? = nil, rateLimitPerMinute: Int = 60, clients: (any ClientRepository)? = nil,
                  inbound: InboundController? = nil, health: @escaping @Sendable () -> (report: HealthReport, at: Date)? = { nil },
                  throttle: AuthFailureThrottle? = nil, limiter: RequestRateLimiter = RequestRateLimiter(),
                  checkins: Checkins? = nil, metricsToken: Bool = true, logger: Logger = Logger(label: "t")) throws -> AdminAPI {
    let sessions = SessionService(store: store, firewall: MemoryFirewall(), outbox: outbox, sessionMinutes: 60, logger: Logger(label: "t"))
    return AdminAPI(credentials: AdminCredentials(credentials), tokens: try tokens ?? APITokens(store: store), rateLimitPerMinute: rateLimitPerMinute,
                    clients: clients ?? SessionClientRepository(sessions: sessions, neighbours: StaticNeighbours()),
                    outbox: StoreOutboxRepository(store: store, outbox: outbox, now: sessions.now), reservations: testReservations(store),
                    checkins: checkins ?? Checkins(store: store, outbox: outbox, profile: RegistrationProfile.named("basic")!,
                                                   timeZone: TimeZone(identifier: "Europe/Madrid")!),
                    idempotencyKeys: IdempotencyKeys(store: store),
                    inbound: inbound, firewall: FirewallStatus(sessions: sessions, backend: "none", table: "portald"),
                    health: health, throttle: throttle, limiter: limiter,
                    metrics: MetricsScrape(metrics: sessions.metrics, store: store, outbox: outbox, timeZone: TimeZone(identifier: "Europe/Madrid")!),
                    metricsToken: metricsToken,
                    status: StatusSource(startedAt: Date(), configFile: "/etc/portald/portald.toml", site: "h (Hotel)",
                                         listeners: [.init(name: "admin", address: "127.0.0.1:8081")],
                                         firewall: FirewallStatus(sessions: sessions, backend: "none", table: "portald"), store: store, outbox: outbox,
                                         health: health, log: RecentLog()),
                    logger: logger)
}

extension HTTPResponder {
    /// The answer, with offloaded work run in place as the worker pool would run it.
    func answer(_ request: HTTPRequest) -> HTTPResponse {
        switch respond(to: request) {
        case .now(let response): response
        case .later(let work): work()
        }
    }
}
