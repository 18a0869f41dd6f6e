import Firewall
import Foundation

/// A device's time online: from login until it expires or is ended.
public struct Session: Sendable, Equatable {
    /// How access was granted.
    public enum Method: String, Codable, Sendable, CaseIterable {
        /// The guest accepted the terms on the splash page.
        case terms
        /// The guest entered an access code.
        case code
        /// The guest gave a room number and surname.
        case room
        /// The guest finished online check-in.
        case arrival
        /// Staff authorized the device (`portald auth`, admin API).
        case admin
    }

    public enum EndReason: String, Codable, Sendable {
        case expired
        case deauthorized
        /// The device logged in again from another address, or another way.
        case replaced
        /// Another device logged in from this session's address: DHCP gave it away.
        case addressReused = "address_reused"
        /// IT blocked the device (`portald block`).
        case blocked
        /// Its tier's byte quota was used up.
        case quota
        /// Its counters had not moved for its tier's idle timeout.
        case idle
    }

    public var id: String
    /// The device and the addresses it uses.
    public var device: DeviceBinding
    public var method: Method
    /// Whom the access belongs to (a reservation, an access code), if anyone.
    public var subject: SessionSubject?
    /// Its `[[firewall.tiers]]`: rates, quota, idle timeout (nil: none).
    public var tier: String?
    public var startedAt: Date
    public var expiresAt: Date
    public var endedAt: Date?
    public var endReason: EndReason?
    /// Bytes to and from the internet: totals once ended; while active, what tables
    /// replaced since login had counted (the live table holds the rest).
    public var bytesUp: Int64 = 0
    public var bytesDown: Int64 = 0
    /// Set when the counters could not be read as the session ended: its totals miss
    /// the last bytes, and `wifi.session.ended` says "unknown" (null) rather than a wrong number.
    public var trafficUnknown = false

    public var isActive: Bool { endedAt == nil }
    public var mac: MACAddress { device.mac }
    public var ipv4: IPv4Address? { device.ipv4 }
    /// The session's elements of the authorized sets: one per address.
    var keys: [DeviceKey] { device.addresses.map { DeviceKey(mac: device.mac, address: $0) } }

    /// The session's elements, each with `timeout`.
    func elements(timeout: Duration?) -> [AuthorizedDevice] {
        device.addresses.map { AuthorizedDevice(mac: device.mac, address: $0, timeout: timeout, tier: tier) }
    }

    /// Adds bytes the kernel counted for this session's address.
    mutating func addTraffic(_ counted: TrafficCounters) {
        bytesUp += Int64(clamping: counted.bytesUp)
        bytesDown += Int64(clamping: counted.bytesDown)
    }

    /// How long a session may be given, in minutes: a day to a year is what hotels use,
    /// and the config, the admin API and the CLI all hold this one bound.
    public static let minutesRange = 1...(366 * 24 * 60)

    public func secondsRemaining(at now: Date) -> Int {
        max(0, Int(expiresAt.timeIntervalSince(now).rounded(.down)))
    }
}

/// A device as a session binds it: its link-layer address and the IP addresses it
/// uses on the LAN. Stored one row per address: the one it logged in from, then
/// those the address watcher found for its MAC since (IPv6 privacy addresses come
/// and go; a device that logged in over IPv6 gets its IPv4 address too).
public struct DeviceBinding: Sendable, Hashable {
    public var mac: MACAddress
    /// In the order they were bound.
    public var addresses: [IPAddress]

    public init(mac: MACAddress, addresses: [IPAddress]) {
        self.mac = mac
        self.addresses = addresses
    }

    public init(mac: MACAddress, ipv4: IPv4Address?) {
        self.init(mac: mac, addresses: ipv4.map { [.v4($0)] } ?? [])
    }

    public var ipv4: IPv4Address? { addresses.lazy.compactMap(\.ipv4).first }
    public var ipv6: [IPv6Address] { addresses.compactMap(\.ipv6) }
}

/// Whom a session's access belongs to: `{"type": "reservation" | "code", "id": …}`.
public enum SessionSubject: Sendable, Hashable, Codable {
    case reservation(String)
    case accessCode(String)

    public var type: String {
        switch self {
        case .reservation: "reservation"
        case .accessCode: "code"
        }
    }

    public var id: String {
        switch self {
        case .reservation(let id), .accessCode(let id): id
        }
    }

    public init?(type: String?, id: String?) {
        guard let type, let id else { return nil }
        switch type {
        case "reservation": self = .reservation(id)
        case "code": self = .accessCode(id)
        default: return nil
        }
    }

    enum CodingKeys: String, CodingKey { case type, id }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        guard let subject = SessionSubject(type: type, id: try container.decode(String.self, forKey: .id)) else {
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown subject type \(type)")
        }
        self = subject
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(id, forKey: .id)
    }
}
