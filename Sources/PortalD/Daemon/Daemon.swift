import Arrivals
import Firewall
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPServer
import Logging
import Outbox
import ServiceLifecycle
import Store
import UnixSignals

/// `portald serve`: everything the running service is, started in order and
/// stopped in reverse on SIGTERM. Blocking steps (SQLite, netlink) run on the
/// worker pool, never on Swift's cooperative threads.
public enum Daemon {
    public static let version = "0.1.0"

    /// The modules' tables, in the store.
    static var schemas: [any StoreSchema.Type] { [SessionsSchema.self, DeviceRulesSchema.self, OutboxSchema.self, ArrivalsSchema.self, TokensSchema.self] }

    /// `privacy`: the log's, given the site's MAC-hashing key once the store is open;
    /// `logSettings`: the log's level, which a reload changes.
    public static func run(config: Config, logger: Logger, privacy: LogPrivacy = LogPrivacy(hashMACs: false),
                           logSettings: JournalLogHandler.Settings? = nil) async throws {
        // A control verb's reading may hold a placeholder for a secret it could not read.
        guard config.secretsRead else { throw CLIError("\(config.file): read without its secrets; portald serve reads every one") }
        let startedAt = Date()
        // Trapped from the start: SIGHUP's default action ends the process, and systemd runs a
        // queued `reload` as soon as READY=1 is sent, before the services below are running.
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        // The database holds the form-token key: nothing portald writes is for other users,
        // with or without systemd's UMask=.
        umask(0o027)
        // Each guest's connection is a descriptor: take all the unit's LimitNOFILE= allows.
        let descriptors = DescriptorLimit.raiseToHardLimit()
        let workers = WorkerPool.shared
        let notifier = SystemdNotifier()
        let pages = try GuestPages(config: config)
        // Before the store or the firewall is touched: a second instance leaves both alone.
        let instance = try InstanceLock(directory: URL(fileURLWithPath: config.store.path).deletingLastPathComponent().path)
        defer { withExtendedLifetime(instance) {} }
        let store = try await workers.run { try Store(path: config.store.path, schemas: schemas, durability: config.store.synchronous) }
        privacy.useKey(try await workers.run { try store.secret(named: "log-mac-hash") })
        let firewall: any Firewall
        switch config.firewall.backend {
        case .nftables:
            guard let portalAddress = IPv4Address(config.portal.captureAddress) else {
                throw ConfigError("[portal] listen: \(config.portal.captureAddress) is not an IPv4 address")
            }
            var capture = CaptureSettings(
                table: config.firewall.table, lanInterface: config.portal.lanInterface,
                portalAddress: portalAddress, portalPort: config.portal.listen.port,
                portalAddress6: config.portal.listenIPv6.flatMap { IPv6Address($0.host) }, portalPort6: config.portal.listenIPv6?.port)
            capture.walledGarden = config.firewall.walledGarden.networks
            capture.tiers = config.firewall.tiers.compactMap(\.bandwidth)
            firewall = try NFTablesFirewall(settings: capture)
        case .none:
            logger.warning("firewall backend \"none\": guests are not captured; logins are recorded only")
            firewall = MemoryFirewall()
        }
        if !config.arrivals.publicURLGiven {
            logger.warning("[arrivals] public_url is not set: check-in links point at the portal (\(config.portal.publicURL)), which guests reach only on the hotel's WiFi")
        }
        let metrics = PortalMetrics()
        let tiers = TierSettings(config)
        let outbox = Outbox(siteID: config.site.id, endpoints: config.webhooks.endpoints)
        try await workers.run { try ManagedEndpoints(store: store, outbox: outbox).load() }
        let sessions = SessionService(store: store, firewall: firewall, outbox: outbox, sessionMinutes: config.portal.sessionMinutes,
                                      defaultTier: config.portal.tier, metrics: metrics, logger: logger)
        let restored = try await workers.run { try sessions.loadDeviceRules(); return try sessions.restore() }
        switch config.firewall.backend {
        case .nftables: logger.info("capture installed", metadata: ["table": "\(config.firewall.table)", "restored_sessions": "\(restored)"])
        case .none: logger.info("sessions restored; nothing is captured (backend \"none\")", metadata: ["restored_sessions": "\(restored)"])
        }

        var delivery = config.webhooks.delivery
        delivery.userAgent = "portald/\(version) (+webhooks)"
        let dispatcher = Dispatcher(store: store, outbox: outbox, settings: delivery, logger: logger, observer: metrics)
        let healthStatus = HealthStatus()

        let neighbours = KernelNeighbours(interface: config.portal.lanInterface.isEmpty ? nil : config.portal.lanInterface)
        let checkins = Checkins(store: store, outbox: outbox, profile: config.arrivals.registration, timeZone: config.site.timeZone,
                                earlyArrivalDays: config.arrivals.earlyArrivalDays)
        let reservations = Reservations(store: store, timeZone: config.site.timeZone, linkBase: config.arrivals.publicURL)
        let servers: [HTTPServer]
        var portal6Server: HTTPServer?  // `[portal] listen_ipv6`'s, which the health check probes too
        let localToken: String
        let credentials: AdminCredentials
        do {
            localToken = try LocalToken.ensure(path: config.admin.tokenFile)
            if !LocalToken.isGenerated(localToken) {
                logger.warning("the admin token file does not hold a token portald made; it is throttled like a config token",
                               metadata: ["file": "\(config.admin.tokenFile)"])
            }
            let formKey = try await workers.run { try store.secret(named: "form-token") }
            let lookups = LookupThrottle()
            let portal = Portal(config: config, sessions: sessions, neighbours: neighbours, formKey: formKey, pages: pages,
                                reservations: reservations, checkins: checkins, lookups: lookups, metrics: metrics, logger: logger)
            let idempotencyKeys = IdempotencyKeys(store: store)
            try await workers.run { try idempotencyKeys.forgetUnfinished() }
            credentials = AdminCredentials(AdminCredentials.fixed(localToken: localToken, config: config))
            let tokens = try await workers.run { try APITokens(store: store) }
            let throttle = AuthFailureThrottle(limit: config.admin.failedAuthPerMinute, logger: logger)
            // Its own count: bad deliveries through the reverse proxy must not throttle admin callers.
            let inbound = InboundController(sources: config.inbound, repository: reservations,
                                            throttle: AuthFailureThrottle(limit: config.admin.failedAuthPerMinute, label: "inbound", logger: logger),
                                            logger: logger, timeZone: config.site.timeZone, now: { Date() })
            if config.inboundListen != nil && config.inbound.isEmpty {
                logger.warning("[inbound_listener] is set but no [[inbound]] source is configured: it will answer 404 to everything")
            }
            let firewallStatus = FirewallStatus(sessions: sessions, backend: config.firewall.backend.rawValue, table: config.firewall.table,
                                                garden: { tiers.garden })
            var listeners = [StatusView.Listener(name: "portal", address: config.portal.listen.description)]
            if let listen = config.portal.listenIPv6 { listeners.append(.init(name: "portal", address: listen.description)) }
            listeners.append(.init(name: "admin", address: config.admin.listen.description))
            if let listen = config.inboundListen { listeners.append(.init(name: "inbound", address: listen.description)) }
            if let listen = config.arrivals.listen { listeners.append(.init(name: "arrivals", address: listen.description)) }
            let status = StatusSource(startedAt: startedAt, configFile: config.file, site: "\(config.site.id) (\(config.site.name))", listeners: listeners,
                                      firewall: firewallStatus, store: store, outbox: outbox, health: { healthStatus.latest }, log: RecentLog.shared)
            let admin = AdminAPI(credentials: credentials, tokens: tokens, rateLimitPerMinute: config.admin.rateLimitPerMinute, clients: SessionClientRepository(sessions: sessions, neighbours: neighbours, tierNames: { tiers.names }),
                                 outbox: StoreOutboxRepository(store: store, outbox: outbox, now: sessions.now),
                                 reservations: reservations, checkins: checkins, idempotencyKeys: idempotencyKeys,
                                 inbound: inbound,
                                 firewall: firewallStatus,
                                 health: { healthStatus.latest },
                                 throttle: throttle,
                                 metrics: MetricsScrape(metrics: metrics, store: store, outbox: outbox, timeZone: config.site.timeZone),
                                 metricsToken: config.admin.metricsToken, status: status, logger: logger)
            func portalListener(_ listen: ListenAddress) throws -> HTTPServer {
                try HTTPServer(options: HTTPServerOptions(
                    listen: listen, threads: config.portal.threads,
                    connectionTimeoutSeconds: config.portal.connectionTimeoutSeconds, requestTimeoutSeconds: config.portal.requestTimeoutSeconds,
                    maxConnectionsPerIP: config.portal.maxConnectionsPerIP, maxBodyBytes: config.portal.maxBodyBytes, logger: logger),
                    responder: portal, workers: workers)
            }
            let portalServer = try portalListener(config.portal.listen)
            do {
                var started = [portalServer, try HTTPServer(options: HTTPServerOptions(listen: config.admin.listen, threads: 2, maxConnections: 256, logger: logger),
                                                            responder: admin, workers: workers)]
                if let listen = config.portal.listenIPv6 {
                    do {
                        let server = try portalListener(listen)
                        started.append(server)
                        portal6Server = server
                    } catch {
                        started.dropFirst().forEach { $0.stop() }
                        throw error
                    }
                }
                if let listen = config.inboundListen {
                    let inboundAPI = InboundAPI(controller: inbound, metrics: metrics, logger: logger)
                    do {
                        started.append(try HTTPServer(options: HTTPServerOptions(listen: listen, threads: 2, maxConnections: 256, logger: logger),
                                                      responder: inboundAPI, workers: workers))
                    } catch {
                        started.dropFirst().forEach { $0.stop() }  // the portal is stopped below
                        throw error
                    }
                }
                if let listen = config.arrivals.listen {
                    let site = ArrivalsSite(config: config, reservations: reservations, checkins: checkins, sessions: sessions, formKey: formKey,
                                            lookups: lookups, pages: pages, metrics: metrics, logger: logger)
                    do {
                        // Every guest at home arrives through the one proxy address: no per-address connection cap.
                        started.append(try HTTPServer(options: HTTPServerOptions(
                            listen: listen, threads: 2, connectionTimeoutSeconds: config.portal.connectionTimeoutSeconds,
                            requestTimeoutSeconds: config.portal.requestTimeoutSeconds, maxConnectionsPerIP: 1024, maxConnections: 1024,
                            maxBodyBytes: config.portal.maxBodyBytes, logger: logger), responder: site, workers: workers))
                    } catch {
                        started.dropFirst().forEach { $0.stop() }
                        throw error
                    }
                } else if !config.arrivals.trustedProxies.isEmpty {
                    logger.warning("[arrivals] trusted_proxies is set without [arrivals] listen: it is not used")
                }
                servers = started
            } catch {
                portalServer.stop()
                throw error
            }
        } catch {
            try? await workers.run { try firewall.teardown() }
            throw error
        }
        logger.info("portald \(version) ready", metadata: ["portal": "\(config.portal.listen)", "admin": "\(config.admin.listen)",
                                                          "open_files": "\(descriptors)"])
        notifier.ready(status: "serving \(config.portal.listen); \(restored) session(s) restored")

        // The IPv6 portal listener, when there is one, is the third server started.
        let portal6 = zip(config.portal.listenIPv6.map { [$0] } ?? [], portal6Server.map { [$0] } ?? []).map { listen, server in
            PortalProbe(address: listen, activity: { server.activity })
        }
        let health = HealthCheck(store: store, firewall: firewall, dispatcher: dispatcher, portal: config.portal.listen,
                                 portalActivity: { [portalServer = servers[0]] in portalServer.activity }, more: portal6)
        var followStays: (@Sendable () throws -> Int)?
        if let stays = ArrivalWiFi.forSite(config, sessions: sessions, lan: nil, logger: logger) {
            followStays = { try stays.followStays(reservations) }
        }
        // Only a real LAN has neighbours to watch; `backend = "none"` binds what logged in.
        let watchedNeighbours: (@Sendable () throws -> [Neighbour])? = config.firewall.backend == .nftables ? { @Sendable in try neighbours.readEntries() } : nil
        let housekeeping = Housekeeping(sessions: sessions, store: store, health: health, status: healthStatus, reconcileInterval: .seconds(config.firewall.reconcileSeconds),
                                        workers: workers, notifier: notifier, logger: logger,
                                        purge: { [purgeAfterDays = config.arrivals.purgeAfterDays] in try checkins.purge(afterDays: purgeAfterDays) },
                                        followStays: followStays, neighbours: watchedNeighbours, limits: { tiers.limits })
        var services: [any Service] = [housekeeping, dispatcher]
        // Also without hosts: a reload may bring some.
        let gardenHosts = config.firewall.backend == .nftables ? GardenHosts(hosts: config.firewall.walledGarden.hosts, firewall: firewall, logger: logger) : nil
        if let gardenHosts { services.append(gardenHosts) }
        services.append(ConfigReload(config: config, hangups: hangups, parts: .init(outbox: outbox, credentials: credentials, localToken: localToken, pages: pages,
                                                                  logSettings: logSettings, sessions: sessions, tiers: tiers, gardenHosts: gardenHosts),
                                     workers: workers, notifier: notifier, logger: logger))
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // A service that fails ends the group: stop and clean up as on SIGTERM, then report it.
        var failure: (any Error)?
        do {
            try await group.run()
        } catch {
            failure = error
            logger.error("a service failed; stopping", metadata: ["error": "\(error)"])
        }

        notifier.stopping()
        // Stopping waits for logins in flight: on the worker pool, not a cooperative thread.
        // One deadline for every listener's work, and a second at most for each one's answers
        // to slow readers: well inside the unit's TimeoutStopSec=20s with five listeners.
        let grace = Duration.seconds(10)
        let deadline = ContinuousClock.now + grace
        servers.forEach { $0.beginStopping() }
        for server in servers {
            let left = max(.zero, deadline - ContinuousClock.now)
            if !(try await workers.run { server.stop(grace: left, sending: .seconds(1)) }) {
                logger.warning("a request was still being handled after \(grace); its listener is left to the process exit")
            }
        }
        do {
            try await workers.run { try sessions.preservingTraffic { try firewall.teardown() } }
            logger.info("capture removed; portald stopped")
        } catch {
            logger.error("could not remove the capture table", metadata: ["error": "\(error)"])
        }
        if let failure { throw failure }
    }
}
