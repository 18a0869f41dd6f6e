import ArgumentParser
import Foundation
import HTTPServer
import Outbox
import Logging

/// `portald`: the daemon and its ndsctl-like control verbs.
public struct PortalCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "portald",
        abstract: "Captive portal, online check-in and webhook outbox for a hotel's guest network.",
        version: Daemon.version,
        subcommands: [Serve.self, CheckConfig.self, Clients.self, Auth.self, Deauth.self, Trust.self, Untrust.self, Block.self, Unblock.self, Devices.self, FirewallCommand.self, OutboxCommand.self, WebhooksCommand.self, ReservationsCommand.self, TokensCommand.self,
                      Backup.self, Restore.self, StatusCommand.self])

    public init() {}
}

struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "The TOML configuration file.")
    var config: String = "/etc/portald/portald.toml"

    /// The running daemon's admin API, as this config describes it.
    func adminClient() throws -> AdminClient {
        try AdminClient(config: load(), tokenFile: nil)
    }

    /// The config as the control verbs need it: the admin listener, the token file, the
    /// store. A `*_env` or `*_file` secret this shell cannot read (the unit's
    /// `EnvironmentFile=` sets it, or only the service may read the file) stays unread:
    /// the control verbs never use one. `serve` and `check-config` read every secret.
    func load() throws -> Config {
        try load(secretsRequired: false)
    }

    /// The config with every secret read, as the daemon serves it.
    func loadServing() throws -> Config {
        try load(secretsRequired: true)
    }

    private func load(secretsRequired: Bool) throws -> Config {
        do {
            return try Config.load(path: config, secretsRequired: secretsRequired)
        } catch let error as ConfigError {
            throw CLIError(error.description)
        }
    }
}

/// A failure the CLI reports as `portald: <message>` and exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    /// The admin API's error code, when the message came from it.
    let code: String?
    init(_ description: String, code: String? = nil) {
        self.description = description
        self.code = code
    }
}

extension AsyncParsableCommand {
    /// Runs `body`, printing a `CLIError` as one line on stderr and exiting 1.
    func reporting(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("portald: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the daemon (as the systemd service does).")
    @OptionGroup var options: ConfigOptions

    func run() async throws {
        try await reporting {
            let config = try options.loadServing()
            let privacy = LogPrivacy(hashMACs: config.log.hashMACs)
            let settings = JournalLogHandler.Settings(level: Logger.Level(rawValue: config.log.level) ?? .info)
            LoggingSystem.bootstrap { label in
                // Warnings and errors are also kept for `portald status`.
                JournalLogHandler(label: label, settings: settings, privacy: privacy, recent: RecentLog.shared)
            }
            let logger = Logger(label: "portald")
            do {
                try await Daemon.run(config: config, logger: logger, privacy: privacy, logSettings: settings)
            } catch let error as CLIError {
                throw error
            } catch {
                throw CLIError("\(error)")
            }
        }
    }
}

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config", abstract: "Validate a configuration file; exit 0 if valid, 1 naming the bad key if not.")
    @OptionGroup var options: ConfigOptions

    func run() async throws {
        try await reporting {
            let config = try options.loadServing()
            do {
                _ = try GuestPages(config: config)
            } catch {
                throw CLIError("\(error)")  // every branding and catalog error names its file
            }
            let branding = config.branding.directory.map { ", branding \($0)" } ?? ""
            if !config.arrivals.publicURLGiven {
                print("note: [arrivals] public_url is not set; check-in links will use the portal's URL, reachable only on the hotel's WiFi")
            }
            print("\(options.config): ok (site \(config.site.id), portal \(config.portal.listen), firewall \(config.firewall.backend.rawValue), time zone \(config.site.timeZone.identifier)\(branding))")
            if let line = config.firewall.walledGarden.dnsmasqLine(table: config.firewall.table) {
                // The gateway's resolver adds the garden's addresses as it answers for them (portald also resolves them itself).
                print("dnsmasq, for the walled garden's host names: \(line)")
            }
        }
    }
}

extension PortalCommand {
    /// The process entry point. Spelled out because from top-level code Swift picks
    /// ParsableCommand's synchronous `main()`, which cannot run async commands.
    public static func start() async {
        let asyncMain: () async -> Void = Self.main
        await asyncMain()
    }
}
