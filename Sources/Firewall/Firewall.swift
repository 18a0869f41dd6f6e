/// A guest device let through the capture, on one of its addresses: one element of
/// the authorized set of that address's family.
public struct AuthorizedDevice: Hashable, Sendable {
    public var mac: MACAddress
    public var address: IPAddress
    /// How long the kernel keeps the element; `nil` keeps it until removed.
    public var timeout: Duration?
    /// The bandwidth tier whose rate the address is held to (nil, or a tier without a rate: none).
    public var tier: String?

    public init(mac: MACAddress, address: IPAddress, timeout: Duration?, tier: String? = nil) {
        self.mac = mac
        self.address = address
        self.timeout = timeout
        self.tier = tier
    }

    public init(mac: MACAddress, ipv4: IPv4Address, timeout: Duration?, tier: String? = nil) {
        self.init(mac: mac, address: .v4(ipv4), timeout: timeout, tier: tier)
    }
}

/// A rate a device's traffic is held to, in each direction (nil: not limited).
public struct BandwidthTier: Hashable, Sendable {
    /// `[a-z][a-z0-9_]{0,15}`: it names the tier's sets.
    public var name: String
    public var downBytesPerSecond: UInt64?
    public var upBytesPerSecond: UInt64?

    public init(name: String, downBytesPerSecond: UInt64?, upBytesPerSecond: UInt64?) {
        self.name = name
        self.downBytesPerSecond = downBytesPerSecond
        self.upBytesPerSecond = upBytesPerSecond
    }
}

/// What the capture needs to know about the site.
public struct CaptureSettings: Hashable, Sendable {
    /// The nftables table portald owns (family `inet`); nothing else touches it.
    public var table: String
    /// The guests' interface (bridge or VLAN).
    public var lanInterface: String
    /// Where captured TCP/80 is sent: the portal listener.
    public var portalAddress: IPv4Address
    public var portalPort: UInt16
    /// Where captured IPv6 TCP/80 is sent; without one, guests' IPv6 is refused
    /// (ICMPv6 admin-prohibited) and phones find the portal over IPv4.
    public var portalAddress6: IPv6Address?
    public var portalPort6: UInt16
    /// Networks guests reach before login (a payment provider, the hotel's site).
    public var walledGarden: [IPNetwork] = []
    /// Bandwidth tiers with a rate in either direction.
    public var tiers: [BandwidthTier] = []

    /// The sets dnsmasq's `nftset=` fills with the walled garden's host addresses.
    public static let gardenHostSets = (ipv4: Ruleset.gardenHostsSet, ipv6: Ruleset.gardenHostsSet6)

    public init(table: String, lanInterface: String, portalAddress: IPv4Address, portalPort: UInt16,
                portalAddress6: IPv6Address? = nil, portalPort6: UInt16? = nil) {
        self.table = table
        self.lanInterface = lanInterface
        self.portalAddress = portalAddress
        self.portalPort = portalPort
        self.portalAddress6 = portalAddress6
        self.portalPort6 = portalPort6 ?? portalPort
    }
}

/// Traffic a device moved through the gateway (to and from the internet).
public struct TrafficCounters: Hashable, Sendable {
    public var bytesUp: UInt64
    public var bytesDown: UInt64

    public init(bytesUp: UInt64 = 0, bytesDown: UInt64 = 0) {
        self.bytesUp = bytesUp
        self.bytesDown = bytesDown
    }

    public static let zero = TrafficCounters()
}

public struct FirewallError: Error, CustomStringConvertible, Sendable {
    public let description: String
    /// The kernel's errno, when the kernel refused (ENOENT: no such table, set or element).
    public let errno: Int32?
    public init(_ description: String, errno: Int32? = nil) {
        self.description = description
        self.errno = errno
    }
}

/// A device as an authorized set keys it: its MAC with one address.
public struct DeviceKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var mac: MACAddress
    public var address: IPAddress

    public init(mac: MACAddress, address: IPAddress) {
        self.mac = mac
        self.address = address
    }

    public init(mac: MACAddress, ipv4: IPv4Address) {
        self.init(mac: mac, address: .v4(ipv4))
    }

    public var description: String { "\(mac) . \(address)" }

    public static func < (lhs: DeviceKey, rhs: DeviceKey) -> Bool { (lhs.mac, lhs.address) < (rhs.mac, rhs.address) }
}

extension AuthorizedDevice {
    public var key: DeviceKey { DeviceKey(mac: mac, address: address) }
    public var ipv4: IPv4Address? { address.ipv4 }
}

extension DeviceKey {
    public var ipv4: IPv4Address? { address.ipv4 }
}

/// What the kernel holds: read back to compare with the sessions.
public struct FirewallState: Sendable, Equatable {
    /// The elements of the authorized sets (both families).
    public var authorized: Set<DeviceKey>
    /// Addresses with a counting element in both directions.
    public var counted: Set<IPAddress>
    /// The trusted and blocked sets.
    public var rules: DeviceRules

    public init(authorized: Set<DeviceKey>, counted: Set<IPAddress>, rules: DeviceRules = .none) {
        self.authorized = authorized
        self.counted = counted
        self.rules = rules
    }
}

/// MACs the capture treats apart from sessions: `trusted` ones are never captured
/// (staff devices, printers, smart TVs), `blocked` ones are never let through.
public struct DeviceRules: Sendable, Equatable {
    public var trusted: Set<MACAddress>
    public var blocked: Set<MACAddress>

    public init(trusted: Set<MACAddress> = [], blocked: Set<MACAddress> = []) {
        self.trusted = trusted
        self.blocked = blocked
    }

    public static let none = DeviceRules()
}

/// The capture: a table that holds guests back and a set that lets them through.
///
/// Implementations are safe to call from any thread.
public protocol Firewall: Sendable {
    /// Replaces portald's table atomically, with `devices` already authorized.
    func install(devices: [AuthorizedDevice]) throws
    /// One transaction: removes `removing` (access and counting), then adds `adding`
    /// with fresh timeouts and counters. A device not there (expired) is not an error.
    func update(removing: [DeviceKey], adding: [AuthorizedDevice]) throws
    /// Adds what is missing of `devices` (access or counting elements); present
    /// elements keep their counters.
    func restore(_ devices: [AuthorizedDevice]) throws
    /// The table's elements; nil when the table or one of its sets is missing.
    func state() throws -> FirewallState?
    /// Removes portald's table; absent is not an error.
    func teardown() throws
    /// Bytes forwarded per authorized address since it was (re)authorized, or since
    /// the table was installed; empty when there is no table.
    func counters() throws -> [IPAddress: TrafficCounters]
    /// One address's counters (one netlink lookup, not a dump); nil when not counted.
    func counters(for address: IPAddress) throws -> TrafficCounters?
    /// Keeps `rules` for every table this firewall installs from now on, and puts them
    /// in the kernel's trusted and blocked sets (replacing what they held) in one
    /// transaction; without a table they are only kept.
    func setDeviceRules(_ rules: DeviceRules) throws
    /// The rules last given (what the kernel should hold).
    var deviceRules: DeviceRules { get }
    /// Each of the table's sets with how many elements it holds; nil when there is no table.
    func inventory() throws -> [(set: String, elements: Int)]?
    /// What the kernel's trusted and blocked sets hold (nil: no table), without reading
    /// the guests' sets as `state()` does.
    func kernelRules() throws -> DeviceRules?
    /// Lets guests reach `addresses` before login, each for its `timeout` (a walled-garden
    /// host name's addresses, for their TTL); one transaction, timeouts refreshed.
    func addGardenAddresses(_ addresses: [(address: IPAddress, timeout: Duration)]) throws
    /// Puts the tiers' sets back in line with `desired` (an address in its device's tier,
    /// in no other) and the walled garden's networks back to the configured ones; what
    /// `reconcile` does after the guests' sets. Returns what it changed.
    func repairExtras(desired: [AuthorizedDevice]) throws -> ExtrasRepair
    /// Whether the kernel still holds what portald last put there, known without reading
    /// it back: nothing but portald's own commits since the last full read-back. False
    /// when it cannot be known (the memory firewall, another process's commit).
    func isUnchanged() throws -> Bool
    /// Marks the start and the end of a full read-back (`reconcile`): what it reads and
    /// repairs is what the kernel holds, unless another commit came between.
    func readBackStarted() throws
    func readBackFinished() throws
    /// Takes new tiers and walled-garden networks (a reload). When they differ from the
    /// running ones it returns those, and the table must then be installed again to match
    /// (or the old ones given back, should that install fail); nil when nothing differs.
    func reconfigure(tiers: [BandwidthTier], walledGarden: [IPNetwork]) -> (tiers: [BandwidthTier], walledGarden: [IPNetwork])?
}

extension Firewall {
    public func kernelRules() throws -> DeviceRules? { try state()?.rules }
    /// Nothing beyond the guests' sets to keep in line (no tiers or garden in the kernel).
    public func repairExtras(desired: [AuthorizedDevice]) throws -> ExtrasRepair { ExtrasRepair() }
    /// Not known: every reconcile reads back.
    public func isUnchanged() throws -> Bool { false }
    /// A capture without sets to reshape (the in-memory one) has nothing to change.
    public func reconfigure(tiers: [BandwidthTier], walledGarden: [IPNetwork]) -> (tiers: [BandwidthTier], walledGarden: [IPNetwork])? { nil }
    public func readBackStarted() throws {}
    public func readBackFinished() throws {}
    public func authorize(_ device: AuthorizedDevice) throws { try update(removing: [], adding: [device]) }
    public func deauthorize(mac: MACAddress, ipv4: IPv4Address) throws { try update(removing: [DeviceKey(mac: mac, ipv4: ipv4)], adding: []) }
    public func counters(for ipv4: IPv4Address) throws -> TrafficCounters? { try counters(for: .v4(ipv4)) }
}
