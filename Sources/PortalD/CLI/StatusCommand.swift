import ArgumentParser
import Foundation
import Outbox

/// `portald status [--json]`: the first thing IT runs when a guest calls the front desk.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Whether portald runs, and how: uptime, listeners, health, the nft table, sessions, the webhook backlog, recent errors.",
        discussion: "Exit status: 0 running and every health check passes; 2 running, but a check fails or it does not answer in time; 3 not running; 1 another error.")
    @OptionGroup var options: ConfigOptions
    @Flag(help: "Print typed JSON.") var json = false

    static let failingCheck: Int32 = 2
    static let notRunning: Int32 = 3

    func run() async throws {
        try await reporting {
            let config = try options.load()
            var answer: Data?
            var failure: CLIError?
            do {
                answer = try await AdminClient(config: config, tokenFile: nil).send("GET", "/api/v1/status")
            } catch let error as CLIError {
                failure = error
            }
            if let error = failure, error.code == AdminClient.timedOut {
                // No answer in time: hung or swamped (or the address drops packets), the case IT is looking into.
                print(json ? String(decoding: JSON.bytes(NoAnswer(running: true, configFile: config.file, admin: AdminClient.base(of: config),
                                                                    error: error.description)), as: UTF8.self)
                           : "portald does not answer: \(error.description). systemd's watchdog restarts a hung portald within about 30 s.")
                throw ExitCode(Self.failingCheck)
            }
            if let error = failure {
                // Nothing listens (or no token was ever written: it never started)? Else the error is the answer.
                let listening = error.code == AdminClient.unreachable ? false : await Self.answers(config)
                guard !listening else { throw error }
                if json {
                    print(String(decoding: JSON.bytes(NoAnswer(configFile: config.file, admin: AdminClient.base(of: config), error: error.description)),
                                 as: UTF8.self))
                } else {
                    print("""
                        portald is not running: nothing answers at \(AdminClient.base(of: config)) (config \(config.file)).
                        """ + (config.firewall.backend == .none ? "" : """
                        A stopped portald removes its table, so guests are not held back; after a crash they stay captured and cannot log in.

                        """) + "Look at: systemctl status portald; journalctl -u portald -n 50")
                }
                throw ExitCode(Self.notRunning)
            }
            guard let data = answer else { return }
            let status = try JSON.decoder().decode(StatusView.self, from: data)
            print(json ? String(decoding: data, as: UTF8.self) : Self.render(status, now: Date()))
            if status.health.status == "failing" { throw ExitCode(Self.failingCheck) }
        }
    }

    /// Whether the admin listener answers at all (its health route needs no token).
    static func answers(_ config: Config) async -> Bool {
        do {
            _ = try await AdminClient(base: AdminClient.base(of: config), token: "").exchange("GET", "/api/v1/health")
            return true
        } catch let error as CLIError {
            return error.code != AdminClient.unreachable
        } catch {
            return false
        }
    }

    struct NoAnswer: Encodable {
        var running = false
        var configFile: String
        var admin: String
        var error: String
        enum CodingKeys: String, CodingKey { case running, configFile = "config_file", admin, error }
    }

    static func render(_ status: StatusView, now: Date) -> String {
        var lines = ["portald \(status.version): running for \(duration(status.uptimeSeconds)) (since \(RFC3339.string(status.startedAt)))",
                     "config: \(status.configFile), site \(status.site)",
                     "listening: " + status.listeners.map { "\($0.name) \($0.address)" }.joined(separator: ", ")]
        let checked = status.health.checkedAt.map { " (checked \(duration(max(0, Int(now.timeIntervalSince($0))))) ago)" } ?? ""
        switch status.health.status {
        case "ok": lines.append("health: ok" + checked)
        case "starting": lines.append("health: not checked yet")
        default:
            lines.append("health: FAILING" + checked)
            for (check, result) in status.health.checks.sorted(by: { $0.key < $1.key }) where result != "ok" { lines.append("  \(check): \(result)") }
        }
        let table = "table inet \(status.firewall.table)"
        lines.append("firewall: " + (status.firewall.backend == "none" ? "none (backend \"none\": nothing is captured)"
            : status.firewall.error.map { "\(table) could not be read: \($0)" }
            ?? (status.firewall.installed ? "\(table) installed" : "\(table) MISSING (the reconciler installs it again)")))
        let methods = status.sessions.byMethod.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        lines.append("sessions: \(status.sessions.total) online" + (methods.isEmpty ? "" : " (" + methods.joined(separator: ", ") + ")"))
        if status.outbox.isEmpty {
            lines.append("webhooks: no endpoint")
        } else {
            lines += ["", TextTable.render(["ENDPOINT", "STATUS", "PENDING", "DEAD", "OLDEST PENDING"], status.outbox.map { endpoint in
                [endpoint.id, endpoint.status, String(endpoint.pending), String(endpoint.dead),
                 endpoint.oldestPendingAgeSeconds.map { duration($0) + " ago" } ?? "-"]
            }), ""]
        }
        lines.append("last reconcile: " + (status.lastReconcile.map(FirewallCommand.Show.describe) ?? "not yet"))
        if status.recentErrors.isEmpty {
            lines.append("recent warnings and errors: none since the start")
        } else {
            lines.append("recent warnings and errors (newest last):")
            for entry in status.recentErrors.suffix(10) {
                let metadata = entry.metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
                lines.append("  \(RFC3339.string(entry.at)) \(entry.level): \(entry.message)" + (metadata.isEmpty ? "" : " (\(metadata))"))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `45 s`, `12 min`, `3 h 05 min`, `2 d 4 h`.
    static func duration(_ seconds: Int) -> String {
        switch seconds {
        case ..<60: "\(seconds) s"
        case ..<3600: "\(seconds / 60) min"
        case ..<86_400: "\(seconds / 3600) h " + String(format: "%02d", seconds % 3600 / 60) + " min"
        default: "\(seconds / 86_400) d \(seconds % 86_400 / 3600) h"
        }
    }
}
