import Glibc
import Synchronization

/// An entry of the kernel's neighbour tables (ARP for IPv4, NDP for IPv6): an address
/// on a link and the MAC behind it.
public struct Neighbour: Hashable, Sendable {
    public var address: IPAddress
    public var mac: MACAddress
    /// The kernel heard from the MAC at this address lately (reachable) or was told so
    /// (permanent); not a stale entry, which anyone's ARP or NDP packet can leave behind.
    public var confirmed: Bool

    public init(address: IPAddress, mac: MACAddress, confirmed: Bool = true) {
        self.address = address
        self.mac = mac
        self.confirmed = confirmed
    }
}

/// Which MAC is behind a guest's address, and which addresses a MAC uses.
public protocol NeighbourTable: Sendable {
    /// The MAC behind `address` on the LAN, when the kernel has a complete entry for it.
    func mac(for address: IPAddress) -> MACAddress?
    /// Every complete entry on the LAN (both families).
    func entries() -> [Neighbour]
}

extension NeighbourTable {
    public func mac(for ipv4: IPv4Address) -> MACAddress? { mac(for: .v4(ipv4)) }
    /// The address to let a MAC through with when staff give none: a confirmed IPv4, then
    /// a confirmed global or unique-local IPv6 address, then the same stale (an idle phone's
    /// entries go stale, but a stale one may also be an old lease or left by anyone's packet).
    /// The address watcher binds the device's other addresses once confirmed.
    public func address(for mac: MACAddress) -> IPAddress? {
        let candidates = entries().filter { entry in
            guard entry.mac == mac else { return false }
            switch entry.address {
            case .v4(let ipv4): return !ipv4.isLinkLocal
            case .v6(let ipv6): return ipv6.isGlobalOrUniqueLocal
            }
        }
        return (candidates.first { $0.confirmed && $0.address.ipv4 != nil } ?? candidates.first(where: \.confirmed)
            ?? candidates.first { $0.address.ipv4 != nil } ?? candidates.first)?.address
    }
}

/// A fixed table: `backend = "none"` on a laptop has no LAN to ask, and tests give
/// the neighbours they need.
public struct StaticNeighbours: NeighbourTable {
    public var neighbours: [Neighbour]

    public init(_ neighbours: [Neighbour] = []) { self.neighbours = neighbours }

    public func mac(for address: IPAddress) -> MACAddress? { neighbours.first { $0.address == address }?.mac }
    public func entries() -> [Neighbour] { neighbours }
}

/// The kernel's tables on one interface (or all of them), read over rtnetlink: a
/// login asks for one address (one request, one reply), the address watcher dumps
/// them. Only entries with a usable MAC count (reachable, stale, delay, probe or
/// permanent), so a host that never answered cannot be logged in, and one upstream
/// cannot log in a MAC: only the LAN interface is asked.
public final class KernelNeighbours: NeighbourTable {
    public let interface: String?
    /// Two sockets: a login's lookup never waits behind the watcher's dump of the whole table.
    private let lookups = Mutex<RouteSocket?>(nil)
    private let dumps = Mutex<RouteSocket?>(nil)
    /// Set when the kernel cannot look one entry up (before Linux 4.20): logins dump instead.
    private let lookupUnsupported = Atomic<Bool>(false)

    public init(interface: String?) {
        self.interface = interface
    }

    public func mac(for address: IPAddress) -> MACAddress? {
        do {
            let index = try interfaceIndex()
            if let index, !lookupUnsupported.load(ordering: .relaxed) {
                do {
                    return try Self.with(lookups) { try $0.lookup(address, interface: index)?.neighbour.mac }
                } catch let error as FirewallError where error.errno == EOPNOTSUPP || error.errno == EINVAL {
                    lookupUnsupported.store(true, ordering: .relaxed)
                }
            }
            return try readEntries().first { $0.address == address }?.mac
        } catch {
            return nil  // no interface, no socket: no entry, and the login says so
        }
    }

    public func entries() -> [Neighbour] {
        (try? readEntries()) ?? []
    }

    /// All entries on the interface, or the error that kept them from being read.
    public func readEntries() throws -> [Neighbour] {
        let index = try interfaceIndex()
        return try Self.with(dumps) { try $0.dump() }.filter { index == nil || $0.interface == index }.map(\.neighbour)
    }

    /// The interface's index, looked up each time (cheap), so a bridge created after
    /// portald started is found.
    private func interfaceIndex() throws -> Int32? {
        guard let interface else { return nil }
        let found = if_nametoindex(interface)
        guard found != 0 else { throw FirewallError("no interface \(interface)") }
        return Int32(found)
    }

    /// The socket is opened on first use and kept.
    private static func with<T>(_ socket: borrowing Mutex<RouteSocket?>, _ body: (RouteSocket) throws -> T) throws -> T {
        try socket.withLock { socket in
            let open = try socket ?? RouteSocket()
            socket = open
            return try body(open)
        }
    }
}

/// A NETLINK_ROUTE socket speaking RTM_GETNEIGH: the one Swift file that faces the
/// kernel's rtnetlink (through libc's socket calls; messages are built and read as
/// byte arrays, in the host's byte order as netlink is).
final class RouteSocket: @unchecked Sendable {  // used only under KernelNeighbours's lock
    private let descriptor: Int32
    private var sequence: UInt32 = 0

    init() throws {
        descriptor = Glibc.socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)  // NETLINK_ROUTE
        guard descriptor >= 0 else { throw FirewallError("cannot open a route netlink socket: \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)  // a reply that never comes is an error, not a hang
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    private static let getNeighbour: UInt16 = 30  // RTM_GETNEIGH
    private static let newNeighbour: UInt16 = 28  // RTM_NEWNEIGH
    private static let destination: UInt16 = 1  // NDA_DST
    private static let linkAddress: UInt16 = 2  // NDA_LLADDR
    /// NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT: a MAC that answered.
    private static let usable: UInt16 = 0x02 | 0x04 | 0x08 | 0x10 | 0x80

    /// Every usable entry of both families, with its interface's index.
    func dump() throws -> [(neighbour: Neighbour, interface: Int32)] {
        let sequence = nextSequence()
        try send(Self.request(sequence: sequence, flags: 0x1 | 0x300, family: UInt8(AF_UNSPEC), interface: 0, attributes: []))  // REQUEST | DUMP
        var result: [(Neighbour, Int32)] = []
        while true {
            for message in try receive(sequence: sequence) {
                switch message.type {
                case 3: return result  // NLMSG_DONE
                case 2: throw FirewallError("reading the neighbour table: \(Self.errorText(message.payload))")
                case Self.newNeighbour: if let entry = Self.entry(message.payload) { result.append(entry) }
                default: continue
                }
            }
        }
    }

    /// The entry for `address` on `interface`, nil when there is none (or none usable).
    func lookup(_ address: IPAddress, interface: Int32) throws -> (neighbour: Neighbour, interface: Int32)? {
        let sequence = nextSequence()
        let family = UInt8(address.ipv4 != nil ? AF_INET : AF_INET6)
        try send(Self.request(sequence: sequence, flags: 0x1, family: family, interface: interface, attributes: [(Self.destination, address.bytes)]))
        while true {
            for message in try receive(sequence: sequence) {
                switch message.type {
                case 2:
                    let error = Self.kernelError(message.payload)
                    if error == ENOENT { return nil }
                    throw FirewallError("looking up \(address) in the neighbour table: \(String(cString: strerror(error)))", errno: error)
                case Self.newNeighbour:
                    return Self.entry(message.payload).flatMap { $0.neighbour.address == address ? $0 : nil }
                default: continue
                }
            }
        }
    }

    private func nextSequence() -> UInt32 {
        sequence &+= 1
        return sequence
    }

    private func send(_ bytes: [UInt8]) throws {
        // No address: a netlink socket sends to the kernel by default.
        guard Glibc.send(descriptor, bytes, bytes.count, 0) == bytes.count else {
            throw FirewallError("route netlink send failed: \(String(cString: strerror(errno)))")
        }
    }

    /// The messages of one datagram that answer `sequence` (late replies to an earlier,
    /// timed-out request are skipped).
    private func receive(sequence: UInt32) throws -> [(type: UInt16, payload: ArraySlice<UInt8>)] {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        let count = recv(descriptor, &buffer, buffer.count, 0)
        guard count > 0 else { throw FirewallError("route netlink receive failed: \(String(cString: strerror(errno)))") }
        var messages: [(UInt16, ArraySlice<UInt8>)] = []
        var offset = 0
        while offset + 16 <= count {
            let length = Int(Self.u32(buffer, offset))
            guard length >= 16, offset + length <= count else { break }
            if Self.u32(buffer, offset + 8) == sequence {
                messages.append((Self.u16(buffer, offset + 4), buffer[(offset + 16)..<(offset + length)]))
            }
            offset += (length + 3) & ~3
        }
        return messages
    }

    /// nlmsghdr, ndmsg, then the attributes.
    private static func request(sequence: UInt32, flags: UInt16, family: UInt8, interface: Int32,
                                attributes: [(type: UInt16, data: [UInt8])]) -> [UInt8] {
        var body: [UInt8] = [family, 0, 0, 0] + bytes(UInt32(bitPattern: interface)) + [0, 0, 0, 0]  // pads, ifindex, state, flags, type
        for attribute in attributes {
            body += bytes(UInt16(4 + attribute.data.count)) + bytes(attribute.type) + attribute.data
            body += [UInt8](repeating: 0, count: (4 - attribute.data.count % 4) % 4)
        }
        return bytes(UInt32(16 + body.count)) + bytes(getNeighbour) + bytes(flags) + bytes(sequence) + bytes(UInt32(0)) + body
    }

    /// An RTM_NEWNEIGH payload as an entry, if it is usable and has a MAC.
    private static func entry(_ payload: ArraySlice<UInt8>) -> (neighbour: Neighbour, interface: Int32)? {
        let start = payload.startIndex
        guard payload.count >= 12 else { return nil }
        let family = Int32(payload[start])
        let interface = Int32(bitPattern: u32(payload, start + 4))
        let state = u16(payload, start + 8)
        guard state & usable != 0 else { return nil }
        var address: IPAddress?
        var mac: MACAddress?
        var offset = start + 12
        while offset + 4 <= payload.endIndex {
            let length = Int(u16(payload, offset))
            guard length >= 4, offset + length <= payload.endIndex else { break }
            let data = Array(payload[(offset + 4)..<(offset + length)])
            switch u16(payload, offset + 2) {
            case destination:
                address = family == AF_INET ? IPv4Address(octets: data).map(IPAddress.v4) : family == AF_INET6 ? IPv6Address(bytes: data).map(IPAddress.v6) : nil
            case linkAddress:
                mac = MACAddress(bytes: data)
            default: break
            }
            offset += (length + 3) & ~3
        }
        guard let address, let mac, mac.bytes != [0, 0, 0, 0, 0, 0] else { return nil }
        return (Neighbour(address: address, mac: mac, confirmed: state & (0x02 | 0x80) != 0), interface)
    }

    /// The (negative) errno of an NLMSG_ERROR payload, made positive.
    private static func kernelError(_ payload: ArraySlice<UInt8>) -> Int32 {
        payload.count >= 4 ? -Int32(bitPattern: u32(payload, payload.startIndex)) : EIO
    }

    private static func errorText(_ payload: ArraySlice<UInt8>) -> String { String(cString: strerror(kernelError(payload))) }

    // Host byte order, as netlink is.
    private static func u16<C: Collection<UInt8>>(_ bytes: C, _ index: C.Index) -> UInt16 where C.Index == Int {
        let little = UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8
        return UInt16(littleEndian: little)
    }

    private static func u32<C: Collection<UInt8>>(_ bytes: C, _ index: C.Index) -> UInt32 where C.Index == Int {
        let little = UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24
        return UInt32(littleEndian: little)
    }

    private static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        let little = value.littleEndian
        return (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: little >> ($0 * 8)) }
    }
}
