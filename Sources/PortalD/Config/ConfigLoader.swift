import Foundation
import HTTPServer
import Outbox
import TOMLKit
import Arrivals
import Firewall
import HTTPServer

/// A configuration problem, worded for the person editing the file.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Config {
    /// Reads and validates a TOML file. Every error names the file and the key.
    /// `secretsRequired: false` (the CLI's control verbs) lets a `*_env` or `*_file`
    /// secret that cannot be read here stand unread; nothing may serve with such a config.
    public static func load(path: String, environment: [String: String] = ProcessInfo.processInfo.environment,
                            secretsRequired: Bool = true) throws -> Config {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("\(path): cannot read the file (missing or not readable)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError("\(path): not UTF-8 text")
        }
        do {
            var config = try parse(text, baseDirectory: URL(fileURLWithPath: path).deletingLastPathComponent().path, environment: environment,
                                   secretsRequired: secretsRequired)
            config.file = URL(fileURLWithPath: path).standardizedFileURL.path
            return config
        } catch let error as ConfigError {
            throw ConfigError("\(path): \(error.description)")
        }
    }

    /// Parses TOML text; relative paths are taken from `baseDirectory`.
    public static func parse(_ text: String, baseDirectory: String, environment: [String: String] = [:],
                             secretsRequired: Bool = true) throws -> Config {
        let secrets = SecretSource(environment: environment, required: secretsRequired)
        let root: TOMLTable
        do {
            root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigError("TOML syntax error at line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        }
        let reader = TableReader(root, path: "")
        try reader.rejectUnknownKeys(allowing: ["site", "portal", "firewall", "store", "admin", "log", "webhooks", "branding", "arrivals", "inbound", "inbound_listener", "privacy"], sections: true)
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") ? path : URL(fileURLWithPath: baseDirectory).appendingPathComponent(path).standardized.path
        }

        let site = try reader.table("site")
        let portal = try reader.table("portal")
        let firewall = try reader.optionalTable("firewall")
        let store = try reader.table("store")
        let admin = try reader.optionalTable("admin")
        let log = try reader.optionalTable("log")
        let webhooks = try reader.optionalTable("webhooks").webhooks(secrets: secrets, resolve: resolve)
        let branding = try reader.optionalTable("branding")
        let arrivals = try reader.optionalTable("arrivals")
        let inbound = try reader.inboundSources(secrets: secrets, resolve: resolve)
        let inboundListener = try reader.optionalTable("inbound_listener")
        let privacy = try reader.optionalTable("privacy")

        let siteID = try site.string("id", matching: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", hint: "letters, digits, '.', '_' or '-'")
        let zoneName = try site.string("time_zone", default: "UTC")
        guard let timeZone = TimeZone(identifier: zoneName) else {
            throw ConfigError("[site] time_zone: \"\(zoneName)\" is not an IANA time zone (e.g. \"Europe/Madrid\", \"UTC\")")
        }
        let brandingDirectory = branding.has("directory") ? resolve(try branding.string("directory")) : nil
        let listen = try portal.listenAddress("listen")
        let publicURL = try portal.url("public_url")
        let sessionMinutes = try portal.int("session_minutes", default: 1440, range: Session.minutesRange)
        let backend = try firewall.enumeration("backend", default: Config.FirewallBackend.nftables)
        let lanInterface = try portal.string("lan_interface", default: backend == .none ? "" : nil,
                                             matching: "^[A-Za-z0-9._@-]{0,15}$", hint: "an interface name of at most 15 characters")
        if backend == .nftables && lanInterface.isEmpty {
            throw ConfigError("[portal] lan_interface: required with [firewall] backend = \"nftables\"")
        }
        let captureAddress: String
        if IPv4Address(listen.host) != nil && listen.host != "0.0.0.0" {
            captureAddress = listen.host
        } else if let host = publicURL.host, IPv4Address(host) != nil {
            captureAddress = host
        } else if backend == .none {
            captureAddress = "127.0.0.1"
        } else {
            throw ConfigError("[portal] listen: bind the gateway's LAN IPv4 address (not \(listen.host)) or give public_url an IPv4 host, so captured traffic has somewhere to go")
        }

        // The IPv6 listener: captured IPv6 web traffic is sent there. It must be an address
        // the gateway holds on the LAN that guests route to (not ::, not link-local).
        var listenIPv6: ListenAddress?
        if portal.has("listen_ipv6") {
            let address = try portal.listenAddress("listen_ipv6")
            // Not unspecified, loopback, link-local, multicast or IPv4-mapped: none can be a DNAT target on the LAN.
            guard let ipv6 = IPv6Address(address.host), !ipv6.bytes[0..<15].allSatisfy({ $0 == 0 }), !ipv6.isLinkLocal, ipv6.bytes[0] != 0xff,
                  IPAddress.v6(ipv6).unmapped.ipv4 == nil else {
                throw ConfigError("[portal] listen_ipv6: \"\(address)\" must be the gateway's IPv6 address on the LAN in brackets, e.g. \"[2001:db8:1::1]:8080\" (not [::], loopback, link-local, multicast or IPv4-mapped)")
            }
            listenIPv6 = address
        }

        let tiers = try firewall.tiers()
        func tier(_ reader: TableReader, _ key: String, default fallback: String? = nil) throws -> String? {
            guard reader.has(key) else { return fallback }
            let name = try reader.string(key)
            guard tiers.contains(where: { $0.name == name }) else {
                throw ConfigError("\(reader.name(key)): no [[firewall.tiers]] is named \"\(name)\"" + (tiers.isEmpty ? "" : " (there are: \(tiers.map(\.name).joined(separator: ", ")))"))
            }
            return name
        }
        let portalTier = try tier(portal, "tier")

        let adminListen = try admin.listenAddress("listen", default: "127.0.0.1:8081")
        let storePath = resolve(try store.string("path"))
        let tokenFile = resolve(try admin.string("token_file", default: URL(fileURLWithPath: storePath).deletingLastPathComponent().appendingPathComponent("admin.token").path))
        var tokens: [Config.AdminToken] = []
        for (index, entry) in try admin.arrayOfTables("tokens").enumerated() {
            let name = try entry.string("name")
            let secret = try entry.secret("token", from: secrets, resolve: resolve)
            // 32 characters: a token guessed over the network must not be within reach.
            guard secret.count >= 32 else { throw ConfigError("[[admin.tokens]] #\(index + 1) token: must be at least 32 characters (e.g. `openssl rand -base64 32`)") }
            let scopes = try entry.stringArray("scopes")
            let rateLimit = entry.has("rate_limit_per_minute") ? try entry.int("rate_limit_per_minute", default: 60, range: 1...1_000_000) : nil
            for scope in scopes where !AdminScope.known.contains(scope) {
                throw ConfigError("[[admin.tokens]] #\(index + 1) scopes: unknown scope \"\(scope)\" (known: \(AdminScope.known.sorted().joined(separator: ", ")))")
            }
            try entry.rejectUnknownKeys()
            guard !tokens.contains(where: { $0.name == name }), name != "local-cli" else {
                throw ConfigError("[[admin.tokens]] #\(index + 1) name: \"\(name)\" is used by another token")
            }
            tokens.append(.init(name: name, token: secret, scopes: Set(scopes), rateLimit: rateLimit))
        }

        var config = Config(
            site: .init(id: siteID, name: try site.string("name"), timeZone: timeZone),
            portal: .init(
                listen: listen, listenIPv6: listenIPv6, tier: portalTier, publicURL: publicURL, lanInterface: lanInterface, sessionMinutes: sessionMinutes,
                captureAddress: captureAddress,
                threads: try portal.int("threads", default: 2, range: 1...64),
                connectionTimeoutSeconds: try portal.int("connection_timeout_seconds", default: 15, range: 1...600),
                requestTimeoutSeconds: try portal.int("request_timeout_seconds", default: 10, range: 1...600),
                maxConnectionsPerIP: try portal.int("max_connections_per_ip", default: 32, range: 1...10_000),
                maxBodyBytes: try portal.int("max_body_bytes", default: 64 * 1024, range: 1024...(16 * 1024 * 1024))),
            firewall: .init(backend: backend,
                            table: try firewall.string("table", default: "portald", matching: "^[A-Za-z_][A-Za-z0-9_]{0,63}$", hint: "letters, digits and '_'"),
                            reconcileSeconds: try firewall.int("reconcile_seconds", default: 30, range: 1...3600),
                            walledGarden: try firewall.walledGarden(), tiers: tiers),
            store: .init(path: storePath, synchronous: try store.enumeration("synchronous", default: StoreDurability.full)),
            admin: .init(listen: adminListen, tokenFile: tokenFile, tokens: tokens,
                         rateLimitPerMinute: try admin.int("rate_limit_per_minute", default: 60, range: 1...1_000_000),
                         failedAuthPerMinute: try admin.int("failed_auth_per_minute", default: 10, range: 1...10_000),
                         metricsToken: try admin.bool("metrics_token", default: !adminListen.isLoopback)),
            log: .init(level: try log.enumeration("level", default: LogLevelName.info).rawValue, hashMACs: try privacy.bool("hash_macs", default: false)),
            webhooks: webhooks,
            branding: .init(directory: brandingDirectory),
            // Without one, links point at the portal: they work on the hotel's WiFi only.
            arrivals: .init(publicURL: arrivals.has("public_url") ? try arrivals.url("public_url", plain: true) : publicURL,
                            publicURLGiven: arrivals.has("public_url"), registration: try arrivals.registrationProfile(),
                            termsVersion: try arrivals.string("terms_version", default: "1", matching: "^[A-Za-z0-9._-]{1,32}$",
                                                              hint: "letters, digits, '.', '_' or '-', e.g. \"2026-11\""),
                            earlyArrivalDays: try arrivals.int("early_arrival_days", default: 0, range: 0...30),
                            purgeAfterDays: try arrivals.int("purge_after_days", default: 30, range: 1...3650),
                            wifiAtArrival: try arrivals.bool("wifi_at_arrival", default: true),
                            checkoutTime: try arrivals.timeOfDay("checkout_time", default: TimeOfDay("12:00")!),
                            wifiGraceMinutes: try arrivals.int("wifi_grace_minutes", default: 120, range: 0...(7 * 24 * 60)),
                            wifiDevicesPerGuest: try arrivals.int("wifi_devices_per_guest", default: 3, range: 1...20),
                            wifiTier: try tier(arrivals, "wifi_tier", default: portalTier), wifiTierFollowsPortal: !arrivals.has("wifi_tier"),
                            listen: arrivals.has("listen") ? try arrivals.listenAddress("listen") : nil,
                            trustedProxies: try arrivals.trustedProxies()),
            inbound: inbound,
            inboundListen: inboundListener.has("listen") ? try inboundListener.listenAddress("listen") : nil)
        for table in [site, portal, firewall, store, admin, log, branding, arrivals, inboundListener, privacy] { try table.rejectUnknownKeys() }
        try reader.rejectUnknownKeys()
        config.secretsRead = secretsRequired
        return config
    }
}

enum LogLevelName: String, CaseIterable {
    case trace, debug, info, notice, warning, error, critical
}

/// The admin API's scopes; a token may carry several.
public enum AdminScope {
    public static let clientsRead = "clients:read"
    public static let clientsWrite = "clients:write"
    public static let outboxRead = "outbox:read"
    public static let outboxWrite = "outbox:write"
    public static let reservationsRead = "reservations:read"
    public static let reservationsWrite = "reservations:write"
    public static let webhooksRead = "webhooks:read"
    public static let webhooksWrite = "webhooks:write"
    public static let tokensWrite = "tokens:write"
    public static let firewallRead = "firewall:read"
    /// `/metrics`, when `[admin] metrics_token` asks for a token: what a Prometheus server is given.
    public static let metricsRead = "metrics:read"
    /// `portald status`: the daemon's state (its recent warnings quote the log, which may name a device).
    public static let statusRead = "status:read"
    /// A guest's registration data (document numbers, dates of birth): its own scopes, so a
    /// dashboard's or the PMS's reservation token neither reads nor erases it.
    public static let personalDataRead = "personal-data:read"
    public static let personalDataWrite = "personal-data:write"
    public static let all = "*"
    static let known: Set<String> = [clientsRead, clientsWrite, outboxRead, outboxWrite, reservationsRead, reservationsWrite,
                                     webhooksRead, webhooksWrite, tokensWrite, personalDataRead, personalDataWrite, firewallRead, metricsRead, statusRead, all]
}

extension TableReader {
    /// `[[firewall.tiers]]`: a name (it names the tier's kernel sets), rates in kbit/s, a quota in MB
    /// (both ways together) and an idle timeout in minutes; each optional but the name.
    func tiers() throws -> [Config.Tier] {
        var tiers: [Config.Tier] = []
        for entry in try arrayOfTables("tiers") {
            let name = try entry.string("name", matching: "^[a-z][a-z0-9_]{0,15}$", hint: "a lower-case letter, then up to 15 letters, digits or '_'")
            guard !tiers.contains(where: { $0.name == name }) else { throw ConfigError("\(entry.name("name")): another tier is named \"\(name)\"") }
            func optional(_ key: String, _ range: ClosedRange<Int>) throws -> Int? { entry.has(key) ? try entry.int(key, default: 0, range: range) : nil }
            tiers.append(Config.Tier(name: name, downKbps: try optional("down_kbps", 64...10_000_000), upKbps: try optional("up_kbps", 64...10_000_000),
                                     quotaBytes: try optional("quota_mb", 1...10_000_000).map { Int64($0) * 1_000_000 },
                                     idleMinutes: try optional("idle_minutes", 1...(7 * 24 * 60))))
            try entry.rejectUnknownKeys()
        }
        return tiers
    }

    /// `[firewall] walled_garden = ["203.0.113.0/24", "2001:db8:2::/64", "pay.example.com"]`: each entry an
    /// address, a network or a host name, each named when it is none of them.
    func walledGarden() throws -> Config.WalledGarden {
        var garden = Config.WalledGarden()
        let entries = try optionalStringArray("walled_garden") ?? []
        guard entries.count <= 500 else { throw ConfigError("\(name("walled_garden")): \(entries.count) entries; at most 500 (use networks)") }
        for text in entries {
            if let network = IPNetwork(text) {
                let least = network.address.ipv4 != nil ? 8 : 16
                guard network.prefixLength >= least else {
                    throw ConfigError("\(name("walled_garden")): \"\(text)\" opens too much before login (a prefix of at least /\(least))")
                }
                if !garden.networks.contains(network) { garden.networks.append(network) }
            } else if Self.isHostName(text.hasSuffix(".") ? String(text.dropLast()) : text) {
                let host = (text.hasSuffix(".") ? String(text.dropLast()) : text).lowercased()  // a fully qualified name's dot is dropped
                if !garden.hosts.contains(host) { garden.hosts.append(host) }
            } else if text.contains("/"), let address = text.split(separator: "/").first, IPAddress(String(address)) != nil {
                throw ConfigError("\(name("walled_garden")): \"\(text)\" is not a network: its host bits must be zero, or its prefix is out of range")
            } else {
                throw ConfigError("\(name("walled_garden")): \"\(text)\" is not an address, a network (203.0.113.0/24) or a host name (pay.example.com)")
            }
        }
        return garden
    }

    /// Letters, digits and hyphens in dot-separated labels of 1–63 characters, at least two
    /// labels, 253 characters at most, not all digits (which would be a mistyped address).
    static func isHostName(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return text.utf8.count <= 253 && labels.count >= 2 && !text.allSatisfy({ $0.isNumber || $0 == "." })
            && labels.allSatisfy { label in
                (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                    && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
            }
    }

    /// `[arrivals] trusted_proxies = ["192.0.2.5", "2001:db8::5"]`: addresses, each named when it is not one.
    func trustedProxies() throws -> [String] {
        try (optionalStringArray("trusted_proxies") ?? []).map { text in
            guard let address = ForwardedFor.normalized(text) else {
                throw ConfigError("\(name("trusted_proxies")): \"\(text)\" is not an IPv4 or IPv6 address")
            }
            return address
        }
    }

    /// `[arrivals] registration = "es"` and `[arrivals.fields] phone = "required"`.
    func registrationProfile() throws -> RegistrationProfile {
        let name = try string("registration", default: "basic")
        guard let profile = RegistrationProfile.named(name) else {
            throw ConfigError("\(self.name("registration")): \"\(name)\" is not a registration profile (one of: \(RegistrationProfile.names.joined(separator: ", ")))")
        }
        let fields = try optionalTable("fields")
        fields.path = "[arrivals.fields]"
        var changes: [RegistrationField: RegistrationProfile.Requirement] = [:]
        for key in fields.keys {
            guard let field = RegistrationField(rawValue: key) else {
                throw ConfigError("[arrivals.fields] \(key): not a registration field (one of: \(RegistrationField.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            changes[field] = try fields.enumeration(key, default: RegistrationProfile.Requirement.optional)
        }
        try fields.rejectUnknownKeys()
        do {
            return try profile.overridden(changes)
        } catch let error as RegistrationProfileError {
            throw ConfigError("[arrivals.fields] \(error)")
        }
    }
}
