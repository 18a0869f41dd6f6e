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
        var messages: [NetfilterMessage] = [.newTable(table), .deleteTable(table), .newTable(table), .newAuthorizedSet(table: table)]
        messages += Ruleset.chains.map { .newChain(table: table, $0) }
        messages += Ruleset.rules(for: settings).map { .newRule(table: table, $0) }
        messages += addMessages(devices)
        try socket.commit(messages)
    }

    public func authorize(_ devices: [AuthorizedDevice]) throws {
        guard !devices.isEmpty else { return }
        // An existing element keeps its old timeout on a plain add: add (so the
        // delete cannot fail), delete, add again, all in one transaction.
        let keys = devices.map { Ruleset.key(mac: $0.mac, ipv4: $0.ipv4) }
        var messages = addMessages(devices)
        messages += chunks(keys).map { .deleteElements(table: settings.table, set: Ruleset.authorizedSet, $0) }
        messages += addMessages(devices)
        try socket.commit(messages)
    }

    public func deauthorize(_ devices: [(mac: MACAddress, ipv4: IPv4Address)]) throws {
        guard !devices.isEmpty else { return }
        let keys = devices.map { Ruleset.key(mac: $0.mac, ipv4: $0.ipv4) }
        // Add first (without timeout) so deleting an already expired element succeeds.
        var messages: [NetfilterMessage] = chunks(keys).map { chunk in
            .newElements(table: settings.table, set: Ruleset.authorizedSet, chunk.map { ($0, nil) })
        }
        messages += chunks(keys).map { .deleteElements(table: settings.table, set: Ruleset.authorizedSet, $0) }
        try socket.commit(messages)
    }

    public func teardown() throws {
        try socket.commit([.newTable(settings.table), .deleteTable(settings.table)])
    }

    private func addMessages(_ devices: [AuthorizedDevice]) -> [NetfilterMessage] {
        let elements = devices.map { device in
            (key: Ruleset.key(mac: device.mac, ipv4: device.ipv4),
             timeoutMilliseconds: device.timeout.map { UInt64(max(1, $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000)) })
        }
        return chunks(elements).map { .newElements(table: settings.table, set: Ruleset.authorizedSet, $0) }
    }

    private func chunks<T>(_ items: [T]) -> [[T]] {
        stride(from: 0, to: items.count, by: Self.elementsPerMessage).map {
            Array(items[$0..<min($0 + Self.elementsPerMessage, items.count)])
        }
    }
}
