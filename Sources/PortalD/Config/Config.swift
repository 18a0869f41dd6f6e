import Arrivals
import Firewall
import Foundation
import HTTPServer
import Outbox
import Store

public typealias StoreDurability = Store.Durability

/// portald's configuration, as read from TOML. See `portald.example.toml`.
public struct Config: Sendable {
    public struct Site: Sendable {
        public var id: String
        public var name: String
        /// Times shown to guests are in this zone (`[site] time_zone`, an IANA name).
        public var timeZone: TimeZone
    }

    public struct Branding: Sendable {
        /// An operator's overrides: templates, locale texts, logo, colours (see `Branding`).
        public var directory: String?
    }

    public struct Portal: Sendable {
        public var listen: ListenAddress
        /// The portal's IPv6 listener on the LAN, where captured IPv6 TCP/80 is sent; without
        /// one, IPv6 web traffic is refused and phones find the portal over IPv4.
        public var listenIPv6: ListenAddress?
        /// The tier of a terms login and of staff's `auth` (nil: no limits).
        public var tier: String?
        /// What guests' browsers are sent to; its host:port identifies requests for the portal itself.
        public var publicURL: URL
        public var lanInterface: String
        public var sessionMinutes: Int
        /// Where captured TCP/80 is DNATed: the listen address, or the public URL's IPv4 host.
        public var captureAddress: String
        public var threads: Int
        /// Idle time after which a connection is closed.
        public var connectionTimeoutSeconds: Int
        /// Total time a request may take to arrive, however busy it keeps the connection.
        public var requestTimeoutSeconds: Int
        public var maxConnectionsPerIP: Int
        public var maxBodyBytes: Int
    }

    public enum FirewallBackend: String, Sendable, CaseIterable { case nftables, none }

    public struct Firewall: Sendable {
        public var backend: FirewallBackend
        public var table: String
        /// How often the kernel's sets are compared with the sessions and repaired.
        public var reconcileSeconds: Int
        /// What guests reach before login: networks, and host names (resolved by portald and by dnsmasq).
        public var walledGarden = WalledGarden()
        /// `[[firewall.tiers]]`: what a session may use.
        public var tiers: [Tier] = []
    }

    /// A tier of service: rates (kernel-enforced), a byte quota and an idle timeout.
    public struct Tier: Sendable, Equatable {
        public var name: String
        public var downKbps: Int?
        public var upKbps: Int?
        /// Bytes both ways together; the session ends (reason `quota`) once used.
        public var quotaBytes: Int64?
        /// The session ends (reason `idle`) when its counters have not moved for this long.
        public var idleMinutes: Int?

        public var bandwidth: BandwidthTier? {
            guard downKbps != nil || upKbps != nil else { return nil }
            return BandwidthTier(name: name, downBytesPerSecond: downKbps.map { UInt64($0) * 1000 / 8 }, upBytesPerSecond: upKbps.map { UInt64($0) * 1000 / 8 })
        }
    }

    /// `[firewall] walled_garden`: addresses or networks (either family) and host names.
    public struct WalledGarden: Sendable, Equatable {
        public var networks: [IPNetwork] = []
        public var hosts: [String] = []

        /// The dnsmasq line that puts the hosts' addresses into the table's sets as the
        /// gateway's resolver answers for them (nil without host names).
        public func dnsmasqLine(table: String) -> String? {
            guard !hosts.isEmpty else { return nil }
            return "nftset=/\(hosts.joined(separator: "/"))/4#inet#\(table)#\(CaptureSettings.gardenHostSets.ipv4),6#inet#\(table)#\(CaptureSettings.gardenHostSets.ipv6)"
        }
    }

    public struct Store: Sendable {
        public var path: String
        /// `full`: every commit survives a power loss; `normal`: a crash of portald only.
        public var synchronous: StoreDurability
    }

    public struct AdminToken: Sendable {
        public var name: String
        public var token: String
        public var scopes: Set<String>
        /// Requests a minute; nil: `[admin] rate_limit_per_minute`.
        public var rateLimit: Int?
    }

    public struct Admin: Sendable {
        public var listen: ListenAddress
        /// The token the local CLI uses; portald writes it (mode 0600) on start when absent.
        public var tokenFile: String
        public var tokens: [AdminToken]
        /// Requests a minute per token (the local CLI's is not limited).
        public var rateLimitPerMinute: Int
        /// Failed authentications a minute from one address (an IPv6 /64) before it gets 429.
        public var failedAuthPerMinute: Int
        /// Whether `/metrics` asks for a token with scope `metrics:read` (`metrics_token`;
        /// by default only when the admin listener is reachable from other machines).
        public var metricsToken = false
    }

    public struct Arrivals: Sendable {
        /// Check-in links are built from it (`<public_url>/arrive/<token>`): the address a
        /// guest at home reaches, usually through the hotel's reverse proxy.
        public var publicURL: URL
        /// False when it was left to default to the portal's URL (worth a warning).
        public var publicURLGiven: Bool
        /// The registration form guests fill in (`registration` with `[arrivals.fields]` over it).
        public var registration: RegistrationProfile = RegistrationProfile.named("basic")!
        /// The version of the terms guests sign (their text is `arrive.terms.text` of each
        /// language, which a branding catalog may replace): change it with the text.
        public var termsVersion = "1"
        /// How many days before the arrival day a guest may arrive online.
        public var earlyArrivalDays = 0
        /// Days after departure until a stay's reservation and check-in are deleted.
        public var purgeAfterDays = 30
        /// Arriving online from a device on the guest LAN lets that device on for the stay.
        public var wifiAtArrival = true
        /// When a stay ends on its departure day, site time.
        public var checkoutTime = TimeOfDay("12:00")!
        /// How long after check-out time a stay's WiFi lasts.
        public var wifiGraceMinutes = 120
        /// Devices a stay may have online, per adult or child.
        public var wifiDevicesPerGuest = 3
        /// The tier of a stay's WiFi (default: `[portal] tier`).
        public var wifiTier: String?
        /// `wifi_tier` was not given: stays get `[portal] tier`, as a reload changes it.
        public var wifiTierFollowsPortal = true
        /// A listener for online check-in alone (`/arrive…`, `/claim/…`), for the hotel's reverse proxy.
        public var listen: ListenAddress?
        /// Proxies whose `X-Forwarded-For` names the guest on that listener.
        public var trustedProxies: [String] = []
    }

    public struct Log: Sendable {
        public var level: String
        /// `[privacy] hash_macs`: guests' MACs appear in the log as a keyed hash of the site's, not as themselves.
        public var hashMACs = false
    }

    /// The file it was read from (`portald status` shows it); empty when parsed from text.
    public var file = ""
    /// False when read for a control verb: a secret that could not be read stands unread
    /// (`SecretSource.unread`), so such a config must never serve.
    public var secretsRead = true
    public var site: Site
    public var portal: Portal
    public var firewall: Firewall
    public var store: Store
    public var admin: Admin
    public var log: Log
    public var webhooks: WebhooksConfig
    public var branding: Branding
    public var arrivals: Arrivals
    /// Systems that push reservations (`[[inbound]]`).
    public var inbound: [InboundSource]
    /// A listener for `/api/v1/inbound/…` alone, to expose through the hotel's reverse proxy.
    public var inboundListen: ListenAddress?
}
