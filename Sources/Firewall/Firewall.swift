/// A guest device let through the capture: one element of the `authorized` set.
public struct AuthorizedDevice: Hashable, Sendable {
    public var mac: MACAddress
    public var ipv4: IPv4Address
    /// How long the kernel keeps the element; `nil` keeps it until removed.
    public var timeout: Duration?

    public init(mac: MACAddress, ipv4: IPv4Address, timeout: Duration?) {
        self.mac = mac
        self.ipv4 = ipv4
        self.timeout = timeout
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

    public init(table: String, lanInterface: String, portalAddress: IPv4Address, portalPort: UInt16) {
        self.table = table
        self.lanInterface = lanInterface
        self.portalAddress = portalAddress
        self.portalPort = portalPort
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

/// The capture: a table that holds guests back and a set that lets them through.
///
/// Implementations are safe to call from any thread.
public protocol Firewall: Sendable {
    /// Replaces portald's table atomically, with `devices` already authorized.
    func install(devices: [AuthorizedDevice]) throws
    /// Adds or refreshes one device (a fresh timeout replaces the old one).
    func authorize(_ devices: [AuthorizedDevice]) throws
    /// Removes devices; a device that is not there (expired) is not an error.
    func deauthorize(_ devices: [(mac: MACAddress, ipv4: IPv4Address)]) throws
    /// Removes portald's table; absent is not an error.
    func teardown() throws
    /// Bytes forwarded per authorized IPv4 address since it was (re)authorized, or
    /// since the table was installed; empty when there is no table.
    func counters() throws -> [IPv4Address: TrafficCounters]
    /// One address's counters (one netlink lookup, not a dump); nil when not counted.
    func counters(for ipv4: IPv4Address) throws -> TrafficCounters?
}

extension Firewall {
    public func authorize(_ device: AuthorizedDevice) throws { try authorize([device]) }
    public func deauthorize(mac: MACAddress, ipv4: IPv4Address) throws { try deauthorize([(mac, ipv4)]) }
}
