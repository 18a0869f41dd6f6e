import Foundation
import HTTPServer
import Logging
import Outbox
import ServiceLifecycle
import Synchronization
import UnixSignals

/// `systemctl reload portald` (SIGHUP): the config file is read again and what can change
/// while guests are online does (`ConfigChanges`): webhook endpoints, admin tokens,
/// branding, the log level, tiers and the walled garden. The new file is checked whole
/// first, as `check-config` does; a file with an error changes nothing, and the error,
/// naming the key, is logged. Sessions, the outbox and the listeners are untouched, so no
/// guest loses access and nothing queued is lost. systemd is told `RELOADING=1`, then
/// `READY=1` once done either way.
final class ConfigReload: Service, Sendable {
    /// What a reload changes, as the running daemon holds it.
    struct Parts: Sendable {
        var outbox: Outbox
        var credentials: AdminCredentials
        var localToken: String
        var pages: GuestPages
        var logSettings: JournalLogHandler.Settings?
        var sessions: SessionService
        var tiers: TierSettings
        var gardenHosts: GardenHosts?
    }

    let path: String
    let parts: Parts
    let workers: WorkerPool
    let notifier: SystemdNotifier
    let logger: Logger
    /// The configuration in effect: the start's, with what reloads applied.
    private let running: Mutex<Config>
    /// One reload at a time (a second SIGHUP waits for the first).
    private let reloading = Mutex(())

    init(config: Config, parts: Parts, workers: WorkerPool, notifier: SystemdNotifier, logger: Logger) {
        self.path = config.file
        self.parts = parts
        self.workers = workers
        self.notifier = notifier
        self.logger = logger
        self.running = Mutex(config)
    }

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in hangups {
                await self.reloadNow()
            }
        }
    }

    /// Reads the file and applies it, on the worker pool (files, SQLite, netlink).
    func reloadNow() async {
        notifier.reloading()
        let outcome = try? await workers.run { self.reload() }
        notifier.ready(status: outcome ?? "reload failed; see the log")
    }

    /// Returns the status line systemd shows.
    @discardableResult
    func reload() -> String {
        reloading.withLock { _ in
            let new: Config
            let pages: GuestPages
            do {
                new = try Config.load(path: path)
                pages = try GuestPages(config: new)
                let managed = parts.outbox.endpoints.filter { $0.managedBy == .api }.map(\.id)
                if let clash = new.webhooks.endpoints.first(where: { managed.contains($0.id) }) {
                    throw ConfigError("[[webhooks.endpoints]] id \"\(clash.id)\": an endpoint made through the API has it")
                }
            } catch {
                logger.error("reload refused; the running configuration is kept", metadata: ["error": "\(error)", "file": "\(path)"])
                return "reload refused: \(error); running on the previous configuration"
            }
            let old = running.withLock { $0 }
            let restart = ConfigChanges.needingRestart(from: old, to: new)
            if !restart.isEmpty {
                logger.warning("reload: these keys take effect only after a restart (systemctl restart portald); they keep their running values",
                               metadata: ["keys": "\(restart.joined(separator: ", "))"])
            }
            var changes: Logger.Metadata = [:]
            if let settings = parts.logSettings, let level = Logger.Level(rawValue: new.log.level), settings.level != level {
                settings.level = level
                changes["log_level"] = "\(level.rawValue)"
            }
            parts.pages.replace(with: pages)
            parts.credentials.replace(with: AdminCredentials.fixed(localToken: parts.localToken, config: new))
            changes["tokens"] = "\(new.admin.tokens.count)"
            do {
                let endpoints = try parts.outbox.registry.replaceConfigured(with: new.webhooks.endpoints)
                for (key, ids) in [("endpoints_added", endpoints.added), ("endpoints_changed", endpoints.changed), ("endpoints_removed", endpoints.removed)]
                where !ids.isEmpty {
                    changes[key] = "\(ids.joined(separator: ","))"
                }
            } catch {
                logger.error("reload: the webhook endpoints were not changed", metadata: ["error": "\(error)"])
            }
            parts.tiers.replace(with: new)
            parts.gardenHosts?.replace(hosts: new.firewall.walledGarden.hosts)
            do {
                if try parts.sessions.reconfigure(tiers: new.firewall.tiers.compactMap(\.bandwidth), walledGarden: new.firewall.walledGarden.networks,
                                                  defaultTier: new.portal.tier) {
                    changes["table"] = "installed again with the new tiers and walled garden"
                }
            } catch {
                logger.error("reload: the nft table could not be installed with the new tiers and walled garden; the reconciler tries again",
                             metadata: ["error": "\(error)"])
            }
            running.withLock { $0 = ConfigChanges.applying(new, to: $0) }
            logger.notice("configuration reloaded", metadata: changes.merging(["file": "\(path)"]) { $1 })
            return "serving; configuration reloaded" + (restart.isEmpty ? "" : " (a restart is needed for: \(restart.joined(separator: ", ")))")
        }
    }
}
