import Firewall
import Foundation
import Logging
import ServiceLifecycle

/// `portald serve`: everything the running service is, started in order and
/// stopped in reverse on SIGTERM.
public enum Daemon {
    public static let version = "0.1.0"

    public static func run(config: Config, logger: Logger) async throws {
        let notifier = SystemdNotifier()
        let store = try Store(path: config.store.path)
        let firewall: any Firewall
        switch config.firewall.backend {
        case .nftables:
            guard let portalAddress = IPv4Address(config.portal.captureAddress) else {
                throw ConfigError("[portal] listen: \(config.portal.captureAddress) is not an IPv4 address")
            }
            firewall = try NFTablesFirewall(settings: CaptureSettings(
                table: config.firewall.table, lanInterface: config.portal.lanInterface,
                portalAddress: portalAddress, portalPort: config.portal.listen.port))
        case .none:
            logger.warning("firewall backend \"none\": guests are not captured; logins are recorded only")
            firewall = MemoryFirewall()
        }
        let outbox = Outbox(siteID: config.site.id, endpoints: config.webhooks.endpoints)
        let sessions = SessionService(store: store, firewall: firewall, outbox: outbox, sessionMinutes: config.portal.sessionMinutes, logger: logger)
        let restored = try sessions.restore()
        logger.info("capture installed", metadata: ["table": "\(config.firewall.table)", "backend": "\(config.firewall.backend.rawValue)", "restored_sessions": "\(restored)"])

        let neighbours = NeighbourTable(interface: config.portal.lanInterface.isEmpty ? nil : config.portal.lanInterface)
        let servers: [HTTPServer]
        do {
            let localToken = try LocalToken.ensure(path: config.admin.tokenFile)
            let portal = Portal(config: config, sessions: sessions, neighbours: neighbours, formKey: try store.secret(named: "form-token"), logger: logger)
            let admin = AdminAPI(tokens: config.admin.tokens, localToken: localToken, sessions: sessions, neighbours: neighbours,
                                 outbox: outbox, webhooks: config.webhooks, logger: logger)
            let portalServer = try HTTPServer(options: HTTPServerOptions(
                listen: config.portal.listen, threads: config.portal.threads,
                connectionTimeoutSeconds: config.portal.connectionTimeoutSeconds,
                maxConnectionsPerIP: config.portal.maxConnectionsPerIP, maxBodyBytes: config.portal.maxBodyBytes), handler: portal.makeHandler())
            do {
                servers = [portalServer, try HTTPServer(options: HTTPServerOptions(listen: config.admin.listen, threads: 2), handler: admin.makeHandler())]
            } catch {
                portalServer.stop()
                throw error
            }
        } catch {
            try? firewall.teardown()
            throw error
        }
        logger.info("portald \(version) ready", metadata: ["portal": "\(config.portal.listen)", "admin": "\(config.admin.listen)"])
        notifier.ready(status: "serving \(config.portal.listen); \(restored) session(s) restored")

        let housekeeping = Housekeeping(sessions: sessions, notifier: notifier, logger: logger)
        let dispatcher = Dispatcher(store: store, outbox: outbox, config: config.webhooks, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [housekeeping, dispatcher], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()

        notifier.stopping()
        for server in servers { server.stop() }
        do {
            try sessions.preservingTraffic { try firewall.teardown() }
            logger.info("capture removed; portald stopped")
        } catch {
            logger.error("could not remove the capture table", metadata: ["error": "\(error)"])
        }
    }
}

/// Periodic work: ends expired sessions, pings systemd's watchdog.
struct Housekeeping: Service {
    let sessions: SessionService
    let notifier: SystemdNotifier
    let logger: Logger

    func run() async throws {
        let tick = min(notifier.watchdogInterval ?? .seconds(2), .seconds(2))
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    do {
                        try sessions.expireDue()
                    } catch {
                        logger.error("expiring sessions failed", metadata: ["error": "\(error)"])
                    }
                    notifier.watchdog()
                    try await Task.sleep(for: tick)
                }
            }
        } catch is CancellationError {
            return
        }
    }
}
