import Firewall
import Foundation
import HTTPServer
import Logging
import ServiceLifecycle
import Store

/// Periodic work (on the worker pool): purges stays long departed (hourly), moves the stays'
/// WiFi with their reservations (every minute), binds devices' new addresses, ends expired sessions, reconciles the kernel
/// with the sessions every `reconcileInterval` (sooner after a failure), checkpoints
/// the WAL (so no login pays for it), runs the health checks, and pings systemd's
/// watchdog only while they pass, so a daemon that hangs or cannot serve is restarted.
struct Housekeeping: Service {
    let sessions: SessionService
    let store: Store
    let health: HealthCheck
    /// Where the last report goes, for `/api/v1/health`.
    let status: HealthStatus
    let reconcileInterval: Duration
    let workers: WorkerPool
    let notifier: SystemdNotifier
    let logger: Logger
    /// Deletes stays long departed (`[arrivals] purge_after_days`); run hourly. Returns how many went.
    var purge: (@Sendable () throws -> Int)?
    static let purgeInterval: Duration = .seconds(3600)
    /// Moves the stays' WiFi sessions with their reservations (`ArrivalWiFi.followStays`); every minute.
    var followStays: (@Sendable () throws -> Int)?
    static let staysInterval: Duration = .seconds(60)
    /// The LAN's neighbour entries, for the address watcher (`SessionService.bindAddresses`):
    /// every tick, so a device's new address is online within seconds.
    var neighbours: (@Sendable () throws -> [Neighbour])?
    /// Tiers' quotas and idle timeouts, by tier name; checked every 10 s when there are any.
    var limits: @Sendable () -> [String: SessionLimits] = { [:] }
    static let limitsInterval: Duration = .seconds(10)

    /// The full health check writes to the store: every 10 s, not every tick, unless the
    /// watchdog wants pings more often. With the unit's WatchdogSec=30s, a failure that
    /// lasts about 30 s restarts the daemon.
    var healthInterval: Duration { min(.seconds(10), max(.seconds(1), notifier.watchdogInterval ?? .seconds(10))) }

    func run() async throws {
        let tick = min(notifier.watchdogInterval ?? .seconds(2), .seconds(2))
        do {
            try await cancelWhenGracefulShutdown {
                var last: (at: ContinuousClock.Instant, report: HealthReport)?
                var lastPurge: ContinuousClock.Instant?
                var lastStays: ContinuousClock.Instant?
                var lastLimits: ContinuousClock.Instant?
                while true {
                    if let purge, lastPurge.map({ ContinuousClock.now - $0 >= Self.purgeInterval }) ?? true {
                        lastPurge = .now
                        do {
                            let purged = try await workers.run { try purge() }
                            if purged > 0 { logger.info("purged stays departed long ago", metadata: ["reservations": "\(purged)"]) }
                        } catch {
                            logger.error("purging departed stays failed; retrying in an hour", metadata: ["error": "\(error)"])
                        }
                    }
                    if let followStays, lastStays.map({ ContinuousClock.now - $0 >= Self.staysInterval }) ?? true {
                        lastStays = .now
                        do {
                            _ = try await workers.run { try followStays() }
                        } catch {
                            logger.error("moving the stays' WiFi with their reservations failed; retrying in a minute", metadata: ["error": "\(error)"])
                        }
                    }
                    if let neighbours {
                        do {
                            _ = try await workers.run { try sessions.bindAddresses(from: neighbours()) }
                        } catch {
                            logger.error("binding devices' new addresses failed; retrying", metadata: ["error": "\(error)"])
                        }
                    }
                    let limits = self.limits()
                    if !limits.isEmpty, lastLimits.map({ ContinuousClock.now - $0 >= Self.limitsInterval }) ?? true {
                        lastLimits = .now
                        do {
                            _ = try await workers.run { [limits] in try sessions.enforceLimits(limits) }
                        } catch {
                            logger.error("checking the tiers' quotas and idle timeouts failed; retrying", metadata: ["error": "\(error)"])
                        }
                    }
                    do {
                        _ = try await workers.run { try sessions.expireDue() }
                    } catch {
                        logger.error("expiring sessions failed", metadata: ["error": "\(error)"])
                    }
                    do {
                        _ = try await workers.run { try sessions.reconcile(ifOlderThan: reconcileInterval) }
                    } catch {
                        logger.error("reconciling the firewall with the sessions failed; retrying", metadata: ["error": "\(error)"])
                    }
                    do {
                        try await workers.run { try store.checkpoint() }
                    } catch {
                        logger.warning("WAL checkpoint failed", metadata: ["error": "\(error)"])
                    }
                    if last.map({ ContinuousClock.now - $0.at >= healthInterval }) ?? true {
                        let report = try await check()
                        log(report, previous: last?.report)
                        status.record(report)
                        last = (.now, report)
                    }
                    if last?.report.healthy == true { notifier.watchdog() }
                    try await Task.sleep(for: .seconds(Double(tick.components.seconds) + Double(tick.components.attoseconds) / 1e18))
                }
            }
        } catch is CancellationError {
            return
        }
    }

    /// The checks; a missing table is repaired at once (not at the next reconcile) and looked at again.
    private func check() async throws -> HealthReport {
        var report = try await workers.run { health.run() }
        if report.failure("firewall") != nil {
            _ = try? await workers.run { try sessions.reconcile() }
            report.failures["firewall"] = try await workers.run { health.firewallFailure() }
        }
        return report
    }

    private func log(_ report: HealthReport, previous: HealthReport?) {
        if !report.healthy {
            let failures = report.failed.compactMap { name in
                report.failure(name).map { "\(name): \($0.summary)" + ($0.detail.map { " (\($0))" } ?? "") }
            }.joined(separator: "; ")
            logger.error("health check failed; the systemd watchdog is not being pinged", metadata: ["failures": "\(failures)"])
        } else if previous?.healthy == false {
            logger.notice("health check passes again")
        }
        for (check, note) in report.notes.sorted(by: { $0.key < $1.key }) where previous?.notes[check] != note {
            logger.warning("health check passed with a note", metadata: ["check": "\(check)", "note": "\(note)"])
        }
        for check in (previous?.notes.keys).map(Array.init)?.sorted() ?? [] where report.notes[check] == nil {
            logger.notice("health check passes without a note again", metadata: ["check": "\(check)"])
        }
    }
}
