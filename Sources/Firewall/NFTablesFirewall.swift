#if canImport(Glibc)
import Glibc
#endif

/// The real capture: portald's own `inet` table, edited over netlink.
public final class NFTablesFirewall: Firewall {
    public let settings: CaptureSettings
    private let socket: NetfilterSocket

    /// The kernel limits one message's element list to 64 KiB.
    static let elementsPerMessage = 1000

    public init(settings: CaptureSettings) throws {
        guard !settings.table.isEmpty, settings.table.utf8.count < 256 else {
            throw FirewallError("table name must be 1–255 bytes")
        }
        self.settings = settings
        self.socket = try NetfilterSocket()
    }

    public func install(devices: [AuthorizedDevice]) throws {
        let table = settings.table
        // add + delete + add: replaces a stale table (after a crash) in the same
        // transaction, so guests are never left without a capture in between.
        var messages: [NetfilterMessage] = [.newTable(table), .deleteTable(table), .newTable(table)]
        messages += Ruleset.sets.map { .newSet(table: table, $0) }
        messages += Ruleset.chains.map { .newChain(table: table, $0) }
        messages += Ruleset.rules(for: settings).map { .newRule(table: table, $0) }
        messages += addMessages(devices)
        try socket.commit(messages)
    }

    public func update(removing: [DeviceKey], adding: [AuthorizedDevice]) throws {
        guard !removing.isEmpty || !adding.isEmpty else { return }
        // Removing: add first (without timeout) so deleting an already expired element
        // succeeds. Adding: an existing element keeps its counter (and, before Linux 6.x,
        // its old timeout) on a plain add, so add (so the delete cannot fail), delete, add.
        let placeholders = removing.map { AuthorizedDevice(mac: $0.mac, ipv4: $0.ipv4, timeout: nil) }
        try socket.commit(addMessages(placeholders) + deleteMessages(removing)
                          + addMessages(adding) + deleteMessages(adding.map(\.key)) + addMessages(adding))
    }

    public func restore(_ devices: [AuthorizedDevice]) throws {
        guard !devices.isEmpty else { return }
        try socket.commit(addMessages(devices))  // a present element keeps its counter
    }

    public func state() throws -> FirewallState? {
        do {
            let authorized = try socket.counters(table: settings.table, set: Ruleset.authorizedSet).compactMap { element in
                Ruleset.device(key: element.key)
            }
            let up = try socket.counters(table: settings.table, set: Ruleset.uploadSet).compactMap { IPv4Address(octets: $0.key) }
            let down = try socket.counters(table: settings.table, set: Ruleset.downloadSet).compactMap { IPv4Address(octets: $0.key) }
            return FirewallState(authorized: Set(authorized), counted: Set(up).intersection(down))
        } catch let error as FirewallError where error.errno == ENOENT {
            return nil  // the table or a set is gone (`nft flush ruleset`)
        }
    }

    public func teardown() throws {
        try socket.commit([.newTable(settings.table), .deleteTable(settings.table)])
    }

    public func counters() throws -> [IPv4Address: TrafficCounters] {
        var result: [IPv4Address: TrafficCounters] = [:]
        do {
            for (key, bytes) in try socket.counters(table: settings.table, set: Ruleset.uploadSet) {
                if let ipv4 = IPv4Address(octets: key) { result[ipv4, default: .zero].bytesUp = bytes }
            }
            for (key, bytes) in try socket.counters(table: settings.table, set: Ruleset.downloadSet) {
                if let ipv4 = IPv4Address(octets: key) { result[ipv4, default: .zero].bytesDown = bytes }
            }
        } catch let error as FirewallError where error.errno == ENOENT {
            return [:]  // no table (yet): nothing counted
        }
        return result
    }

    public func counters(for ipv4: IPv4Address) throws -> TrafficCounters? {
        do {
            let up = try socket.counters(table: settings.table, set: Ruleset.uploadSet, key: ipv4.octets)
            let down = try socket.counters(table: settings.table, set: Ruleset.downloadSet, key: ipv4.octets)
            return TrafficCounters(bytesUp: up.first?.bytes ?? 0, bytesDown: down.first?.bytes ?? 0)
        } catch let error as FirewallError where error.errno == ENOENT {
            return nil  // no table, or the address is not counted
        }
    }

    /// Counting elements outlive the session a little, so the session's end can
    /// still read them after the kernel has let the access element expire.
    static let accountingGrace: Duration = .seconds(600)

    private func addMessages(_ devices: [AuthorizedDevice]) -> [NetfilterMessage] {
        func milliseconds(_ timeout: Duration?) -> UInt64? {
            timeout.map { UInt64(max(1, $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000)) }
        }
        let access = devices.map { (key: Ruleset.key(mac: $0.mac, ipv4: $0.ipv4), timeoutMilliseconds: milliseconds($0.timeout)) }
        // One counting element per address (an address has one owner at a time; the last one given wins).
        var seen = Set<IPv4Address>()
        let counting = devices.reversed().filter { seen.insert($0.ipv4).inserted }.reversed()
            .map { (key: $0.ipv4.octets, timeoutMilliseconds: milliseconds($0.timeout.map { $0 + Self.accountingGrace })) }
        return chunks(access).map { .newElements(table: settings.table, set: Ruleset.authorizedSet, $0) }
            + [Ruleset.uploadSet, Ruleset.downloadSet].flatMap { set in
                chunks(counting).map { NetfilterMessage.newElements(table: settings.table, set: set, $0) }
            }
    }

    private func deleteMessages(_ devices: [DeviceKey]) -> [NetfilterMessage] {
        let access = devices.map { Ruleset.key(mac: $0.mac, ipv4: $0.ipv4) }
        let counting = Set(devices.map(\.ipv4)).sorted().map(\.octets)  // deleting one twice would fail the transaction
        return chunks(access).map { .deleteElements(table: settings.table, set: Ruleset.authorizedSet, $0) }
            + [Ruleset.uploadSet, Ruleset.downloadSet].flatMap { set in
                chunks(counting).map { NetfilterMessage.deleteElements(table: settings.table, set: set, $0) }
            }
    }

    private func chunks<T>(_ items: [T]) -> [[T]] {
        stride(from: 0, to: items.count, by: Self.elementsPerMessage).map {
            Array(items[$0..<min($0 + Self.elementsPerMessage, items.count)])
        }
    }
}
