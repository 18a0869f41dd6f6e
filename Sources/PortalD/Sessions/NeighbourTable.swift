import Firewall
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The kernel's IPv4 neighbour (ARP) table: which MAC is behind a guest's address.
///
/// Read from `/proc/net/arp` of the daemon's own network namespace; only complete
/// entries on the LAN interface count, so a host upstream cannot log in a MAC.
public struct NeighbourTable: Sendable {
    public var interface: String?
    public var path: String

    public init(interface: String?, path: String = "/proc/net/arp") {
        self.interface = interface
        self.path = path
    }

    public struct Entry: Equatable, Sendable {
        public var ipv4: IPv4Address
        public var mac: MACAddress
        public var device: String
    }

    public func entries() -> [Entry] {
        guard let bytes = Self.read(path) else { return [] }
        return Self.parse(String(decoding: bytes, as: UTF8.self)).filter { interface == nil || $0.device == interface }
    }

    /// The MAC behind `ipv4`. Every login asks, and a hotel's table has hundreds of
    /// lines: only lines that start with the address are parsed, from the raw bytes.
    public func mac(for ipv4: IPv4Address) -> MACAddress? {
        guard let data = Self.read(path) else { return nil }
        let prefix = Array(ipv4.description.utf8)
        for line in data.split(separator: UInt8(ascii: "\n")).dropFirst() where line.starts(with: prefix) {
            // The address must end there: 192.0.2.1 is not 192.0.2.10.
            let next = line.index(line.startIndex, offsetBy: prefix.count)
            guard next < line.endIndex, line[next] == UInt8(ascii: " ") || line[next] == UInt8(ascii: "\t") else { continue }
            if let entry = Self.entry(String(decoding: line, as: UTF8.self)), interface == nil || entry.device == interface {
                return entry.mac
            }
        }
        return nil
    }

    public func ipv4(for mac: MACAddress) -> IPv4Address? {
        entries().first { $0.mac == mac }?.ipv4
    }

    /// The whole file. procfs reports a size of 0 and hands the table out a page per
    /// read: Foundation's whole-file readers stopped after the first 4 KiB (about 50
    /// entries), so on a busy LAN most guests' logins found no entry.
    static func read(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = Glibc.read(descriptor, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { return contents }
            contents += chunk.prefix(count)
        }
    }

    /// Lines: `IP address  HW type  Flags  HW address  Mask  Device`; flag 0x2 is "complete".
    static func parse(_ text: String) -> [Entry] {
        text.split(whereSeparator: \.isNewline).dropFirst().compactMap { entry(String($0)) }
    }

    /// One line of the table, if it is a complete entry.
    static func entry(_ line: String) -> Entry? {
        let fields = line.split(whereSeparator: \.isWhitespace)
        guard fields.count >= 6, let ip = IPv4Address(String(fields[0])), let flags = Int(fields[2].dropFirst(2), radix: 16),
              flags & 0x2 != 0, let mac = MACAddress(String(fields[3])), mac.bytes != [0, 0, 0, 0, 0, 0] else { return nil }
        return Entry(ipv4: ip, mac: mac, device: String(fields[5]))
    }
}
