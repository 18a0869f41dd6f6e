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

    /// SIGHUPs, trapped by the daemon before it told systemd it was ready.
    let hangups: UnixSignalsSequence

    init(config: Config, hangups: UnixSignalsSequence, parts: Parts, workers: WorkerPool, notifier: SystemdNotifier, logger: Logger) {
        self.hangups = hangups
        self.path = config.file
        self.parts = parts
        self.workers = workers
        self.notifier = notifier
        self.logger = logger
        self.running = Mutex(config)
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await _ in self.hangups {
                await self.reloadNow()
            }
        }
    }

    /// Reads the file and applies it, on the worker pool (files, SQLite, netlink).
    func reloadNow() async {
        notifier.reloading()
        let outcome = try? await workers.run { self.reload() }
        // One line: STATUS= ends at a newline.
        notifier.ready(status: LogPrivacy.cutSecrets(outcome ?? "reload failed; see the log").split(whereSeparator: \.isNewline).joined(separator: " "))
    }

    /// Returns the status line systemd shows.
    @discardableResult
    func reload() -> String {
        reloading.withLock { _ in
            let old = running.withLock { $0 }
            let new: Config
            let effective: Config
            let pages: GuestPages
            do {
                new = try Config.load(path: path)
                // What a reload applies, over what runs: a key that waits for a restart (the
                // site's name in the pages, a token's default rate) keeps its running value.
                effective = ConfigChanges.applying(new, to: old)
                pages = try GuestPages(config: effective)
                let managed = parts.outbox.endpoints.filter { $0.managedBy == .api }.map(\.id)
                if let clash = new.webhooks.endpoints.first(where: { managed.contains($0.id) }) {
                    throw ConfigError("[[webhooks.endpoints]] id \"\(clash.id)\": an endpoint made through the API has it")
                }
            } catch {
                logger.error("reload refused; the running configuration is kept", metadata: ["error": "\(error)", "file": "\(path)"])
                return "reload refused, running on the previous configuration: \(error)"
            }
            let restart = ConfigChanges.needingRestart(from: old, to: new)
            if !restart.isEmpty {
                logger.warning("reload: these keys take effect only after a restart (systemctl restart portald); they keep their running values",
                               metadata: ["keys": "\(restart.joined(separator: ", "))"])
            }
            var applied = effective
            var failed: [String] = []
            var changes: Logger.Metadata = [:]
            if let settings = parts.logSettings, let level = Logger.Level(rawValue: effective.log.level), settings.level != level {
                settings.level = level
                changes["log_level"] = "\(level.rawValue)"
            }
            parts.pages.replace(with: pages)
            parts.credentials.replace(with: AdminCredentials.fixed(localToken: parts.localToken, config: effective))
            changes["tokens"] = "\(effective.admin.tokens.count)"
            do {
                let endpoints = try parts.outbox.registry.replaceConfigured(with: effective.webhooks.endpoints)
                for (key, ids) in [("endpoints_added", endpoints.added), ("endpoints_changed", endpoints.changed), ("endpoints_removed", endpoints.removed)]
                where !ids.isEmpty {
                    changes[key] = "\(ids.joined(separator: ","))"
                }
            } catch {
                logger.error("reload: the webhook endpoints were not changed", metadata: ["error": "\(error)"])
                applied.webhooks.endpoints = old.webhooks.endpoints
                failed.append("webhook endpoints")
            }
            do {
                if try parts.sessions.reconfigure(tiers: effective.firewall.tiers.compactMap(\.bandwidth), walledGarden: effective.firewall.walledGarden.networks,
                                                  defaultTier: effective.portal.tier) {
                    changes["table"] = "installed again with the new tiers and walled garden"
                }
            } catch {
                // The kernel still holds the running tiers and garden: keep them everywhere, so
                // the next reload of this file tries again.
                logger.error("reload: the nft table could not be installed with the new tiers and walled garden; the running ones are kept",
                             metadata: ["error": "\(error)"])
                applied.firewall.tiers = old.firewall.tiers
                applied.firewall.walledGarden = old.firewall.walledGarden
                applied.portal.tier = old.portal.tier
                failed.append("tiers and walled garden")
            }
            parts.tiers.replace(with: applied)
            parts.gardenHosts?.replace(hosts: applied.firewall.walledGarden.hosts)
            running.withLock { $0 = applied }
            if failed.isEmpty {
                logger.notice("configuration reloaded", metadata: changes.merging(["file": "\(path)"]) { $1 })
            } else {
                logger.error("configuration reloaded in part", metadata: changes.merging(["file": "\(path)", "not_applied": "\(failed.joined(separator: ", "))"]) { $1 })
            }
            return (failed.isEmpty ? "serving; configuration reloaded" : "serving; configuration reloaded except \(failed.joined(separator: ", "))")
                + (restart.isEmpty ? "" : " (a restart is needed for: \(restart.joined(separator: ", ")))")
        }
    }
}
