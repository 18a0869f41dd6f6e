#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The real capture: portald's own `inet` table, edited over netlink.
public final class NFTablesFirewall: Firewall {
    /// The tiers and the walled garden may change (a reload); the table and its rules follow at the next install.
    private let configured: Mutex<CaptureSettings>
    public var settings: CaptureSettings { configured.withLock { $0 } }
    let socket: NetfilterSocket
    /// A second socket for read-backs: the kernel does a dump's work on the thread that
    /// reads it, so two sockets on two threads read the sets in about half the time.
    let dumpSocket: NetfilterSocket
    /// The tiers' and the garden's sets as `state()` read them, for the `repairExtras`
    /// of the same reconcile; dropped by any commit.
    /// `epoch` counts portald's commits, so a read that a commit overtook is never kept.
    let prefetched = Mutex<(epoch: Int, sets: [String: [ElementReading]]?)>((0, nil))
    private let rules = Mutex(DeviceRules.none)
    /// The walled garden's resolved addresses and when each lapses: a table installed anew
    /// (a restart of the capture, a flushed ruleset) gets them back at once, not at the
    /// hosts' next lookup.
    private let gardenHosts = Mutex<[IPAddress: ContinuousClock.Instant]>([:])

    /// `known`: the ruleset generation at which the kernel holds exactly what portald last
    /// put in its table; nil when that is not known (another process committed, a commit
    /// or a read-back failed). The reconciler skips its read-back while the generation
    /// has not moved from it. `reading`: during a read-back, the generation it started at,
    /// carried along by portald's own commits; it becomes `known` only once the read-back
    /// has finished whole.
    private let verified = Mutex<(known: UInt32?, reading: UInt32?)>((nil, nil))

    /// New tiers and garden networks (a reload): the caller installs the table again, in one
    /// transaction with every device, for the sets and rules to match. Returns the previous
    /// ones when they differed.
    public func reconfigure(tiers: [BandwidthTier], walledGarden: [IPNetwork]) -> (tiers: [BandwidthTier], walledGarden: [IPNetwork])? {
        configured.withLock { settings in
            guard settings.tiers != tiers || settings.walledGarden != walledGarden else { return nil }
            let previous = (settings.tiers, settings.walledGarden)
            settings.tiers = tiers
            settings.walledGarden = walledGarden
            return previous
        }
    }

    /// The kernel limits one message's element list to 64 KiB.
    static let elementsPerMessage = 1000

    public init(settings: CaptureSettings) throws {
        guard !settings.table.isEmpty, settings.table.utf8.count < 256 else {
            throw FirewallError("table name must be 1–255 bytes")
        }
        self.configured = Mutex(settings)
        self.socket = try NetfilterSocket()
        self.dumpSocket = try NetfilterSocket()
    }

    public func install(devices: [AuthorizedDevice]) throws {
        let table = settings.table
        // add + delete + add: replaces a stale table (after a crash) in the same
        // transaction, so guests are never left without a capture in between.
        var messages: [NetfilterMessage] = [.newTable(table), .deleteTable(table), .newTable(table)]
        messages += (Ruleset.sets + tierSets.map(\.spec)).map { .newSet(table: table, $0) }
        messages += Ruleset.chains.map { .newChain(table: table, $0) }
        messages += Ruleset.rules(for: settings).map { .newRule(table: table, $0) }
        messages += addMessages(devices)
        messages += ruleMessages(deviceRules, flushing: false)
        messages += gardenMessages()
        let now = ContinuousClock.now
        let resolved = gardenHosts.withLock { hosts in
            hosts = hosts.filter { $0.value > now }
            return hosts.map { (address: $0.key, timeout: $0.value - now) }
        }
        messages += hostMessages(resolved, refreshing: false)
        try commit(messages, replacingTable: true)
    }

    /// Commits, and keeps `verified` when this commit is the only one since: the kernel
    /// then holds what portald put there plus this change. An install replaces the table,
    /// so it is verified whatever came before.
    func commit(_ messages: [NetfilterMessage], replacingTable: Bool = false) throws {
        prefetched.withLock { $0 = ($0.epoch + 1, nil) }  // what `state()` read may be stale from here on
        do {
            let (before, after) = try socket.commit(messages)
            verified.withLock { state in
                let alone = before.flatMap { before in after.map { $0 == before &+ 1 } } ?? false
                state.known = alone && (replacingTable || state.known == before) ? after : nil
                state.reading = alone && (replacingTable || state.reading == before) ? after : nil
            }
        } catch {
            verified.withLock { $0 = (nil, nil) }
            throw error
        }
    }

    public func isUnchanged() throws -> Bool {
        let now = try socket.generation()
        return verified.withLock { $0.known == now }
    }

    /// A generation that cannot be read leaves the kernel unknown; the read-back's own
    /// requests then say what the kernel refused.
    public func readBackStarted() throws {
        let now = try? socket.generation()
        verified.withLock { $0 = (nil, now) }  // unknown until the read-back has finished
    }

    public func readBackFinished() throws {
        let now = try? socket.generation()
        verified.withLock { state in
            state.known = now != nil && state.reading == now ? now : nil
            state.reading = nil
        }
    }

    /// The configured walled garden as interval elements, per family: ranges merged
    /// where they overlap or touch (the kernel refuses overlaps), each a start and the
    /// first address after it, after an end marker at zero, as `nft` sends them.
    func gardenMessages() -> [NetfilterMessage] {
        [(Ruleset.gardenSet, 4), (Ruleset.gardenSet6, 16)].compactMap { set, length -> NetfilterMessage? in
            let ranges = settings.walledGarden.filter { $0.address.bytes.count == length }.map { (start: $0.start, end: $0.end) }
                .sorted { $0.start.lexicographicallyPrecedes($1.start) }
            var merged: [(start: [UInt8], end: [UInt8]?)] = []
            for range in ranges {
                if let last = merged.last, let lastEnd = last.end, !lastEnd.lexicographicallyPrecedes(range.start) {
                    let end = range.end.map { lastEnd.lexicographicallyPrecedes($0) ? $0 : lastEnd }
                    merged[merged.count - 1].end = end
                } else if merged.last.map({ $0.end == nil }) != true {
                    merged.append(range)
                }
            }
            guard !merged.isEmpty else { return nil }
            var elements: [SetElement] = []
            if merged[0].start.contains(where: { $0 != 0 }) { elements.append(SetElement(key: [UInt8](repeating: 0, count: length), intervalEnd: true)) }
            for range in merged {
                elements.append(SetElement(key: range.start))
                if let end = range.end { elements.append(SetElement(key: end, intervalEnd: true)) }
            }
            return .newElements(table: settings.table, set: set, elements)
        }
    }

    public func addGardenAddresses(_ addresses: [(address: IPAddress, timeout: Duration)]) throws {
        // Each address once, with its longest timeout: deleting one twice would fail the transaction.
        let unique = Dictionary(addresses.map { ($0.address, $0.timeout) }, uniquingKeysWith: max).map { (address: $0.key, timeout: $0.value) }
        guard !unique.isEmpty else { return }
        let now = ContinuousClock.now
        gardenHosts.withLock { hosts in
            for entry in unique { hosts[entry.address] = now + entry.timeout }
        }
        do {
            try commit(hostMessages(unique, refreshing: true))
        } catch let error as FirewallError where error.errno == ENOENT {
            return  // no table yet: the install puts them in
        }
    }

    /// Host addresses into the garden's timeout sets; `refreshing`: add, delete, add, so a
    /// present element gets its new timeout (kernels before 6.x keep the old one).
    private func hostMessages(_ addresses: [(address: IPAddress, timeout: Duration)], refreshing: Bool) -> [NetfilterMessage] {
        var messages: [NetfilterMessage] = []
        for family in Ruleset.Family.allCases {
            let elements = addresses.filter { Self.family(of: $0.address) == family }
                .map { SetElement(key: $0.address.bytes, timeoutMilliseconds: Self.milliseconds($0.timeout)) }
            guard !elements.isEmpty else { continue }
            let set = family == .ipv4 ? Ruleset.gardenHostsSet : Ruleset.gardenHostsSet6
            messages += chunks(elements).flatMap { chunk -> [NetfilterMessage] in
                refreshing ? [.newElements(table: settings.table, set: set, chunk), .deleteElements(table: settings.table, set: set, chunk.map(\.key)),
                              .newElements(table: settings.table, set: set, chunk)]
                           : [.newElements(table: settings.table, set: set, chunk)]
            }
        }
        return messages
    }

    /// The tiers' sets (those with a rate), from the settings.
    var tierSets: [(tier: BandwidthTier, up: Bool, family: Ruleset.Family, spec: Ruleset.SetSpec)] { Ruleset.tierSets(settings.tiers) }

    public func setDeviceRules(_ rules: DeviceRules) throws {
        self.rules.withLock { $0 = rules }
        do {
            try commit(ruleMessages(rules, flushing: true))
        } catch let error as FirewallError where error.errno == ENOENT {
            return  // no table yet: the next install puts them in
        }
    }

    public var deviceRules: DeviceRules { rules.withLock { $0 } }

    public func inventory() throws -> [(set: String, elements: Int)]? {
        do {
            // An interval set's ranges, not its end markers.
            return try (Ruleset.sets + tierSets.map(\.spec)).map { spec in
                (spec.name, try socket.counters(table: settings.table, set: spec.name).count { !$0.intervalEnd })
            }
        } catch let error as FirewallError where error.errno == ENOENT {
            return nil
        }
    }

    /// Fills the trusted and blocked sets; `flushing` empties them first (in the same transaction).
    private func ruleMessages(_ rules: DeviceRules, flushing: Bool) -> [NetfilterMessage] {
        [(Ruleset.trustedSet, rules.trusted), (Ruleset.blockedSet, rules.blocked)].flatMap { set, macs -> [NetfilterMessage] in
            let flush: [NetfilterMessage] = flushing ? [.deleteElements(table: settings.table, set: set, [])] : []
            return flush + chunks(macs.sorted().map { SetElement(key: $0.bytes) })
                .map { .newElements(table: settings.table, set: set, $0) }
        }
    }

    public func update(removing: [DeviceKey], adding: [AuthorizedDevice]) throws {
        guard !removing.isEmpty || !adding.isEmpty else { return }
        // Removing: add first (without timeout) so deleting an already expired element
        // succeeds. Adding: an existing element keeps its counter (and, before Linux 6.x,
        // its old timeout) on a plain add, so add (so the delete cannot fail), delete, add.
        let placeholders = removing.map { AuthorizedDevice(mac: $0.mac, address: $0.address, timeout: nil) }
        try commit(addMessages(placeholders) + deleteMessages(removing)
                          + addMessages(adding) + deleteMessages(adding.map(\.key)) + addMessages(adding))
    }

    public func restore(_ devices: [AuthorizedDevice]) throws {
        guard !devices.isEmpty else { return }
        try commit(addMessages(devices))  // a present element keeps its counter
    }

    public func kernelRules() throws -> DeviceRules? {
        do {
            let trusted = try socket.counters(table: settings.table, set: Ruleset.trustedSet).compactMap { MACAddress(bytes: $0.key) }
            let blocked = try socket.counters(table: settings.table, set: Ruleset.blockedSet).compactMap { MACAddress(bytes: $0.key) }
            return DeviceRules(trusted: Set(trusted), blocked: Set(blocked))
        } catch let error as FirewallError where error.errno == ENOENT {
            return nil
        }
    }

    public func teardown() throws {
        try commit([.newTable(settings.table), .deleteTable(settings.table)])
        verified.withLock { $0 = (nil, nil) }
    }

    /// Each counting set on its own: a set that is missing counts nothing (no table yet, or
    /// a table of an earlier version without the IPv6 sets, whose IPv4 bytes must still
    /// be read before it is replaced).
    public func counters() throws -> [IPAddress: TrafficCounters] {
        var result: [IPAddress: TrafficCounters] = [:]
        for (set, upload) in [(Ruleset.uploadSet, true), (Ruleset.uploadSet6, true), (Ruleset.downloadSet, false), (Ruleset.downloadSet6, false)] {
            let elements: [ElementReading]
            do {
                elements = try socket.counters(table: settings.table, set: set)
            } catch let error as FirewallError where error.errno == ENOENT {
                continue
            }
            for element in elements {
                let bytes = element.bytes
                guard let address = Self.address(element.key) else { continue }
                if upload { result[address, default: .zero].bytesUp = bytes } else { result[address, default: .zero].bytesDown = bytes }
            }
        }
        return result
    }

    public func counters(for address: IPAddress) throws -> TrafficCounters? {
        let sets = Ruleset.sets(for: address)
        do {
            let up = try socket.counters(table: settings.table, set: sets.up, key: address.bytes)
            let down = try socket.counters(table: settings.table, set: sets.down, key: address.bytes)
            return TrafficCounters(bytesUp: up.first?.bytes ?? 0, bytesDown: down.first?.bytes ?? 0)
        } catch let error as FirewallError where error.errno == ENOENT {
            return nil  // no table, or the address is not counted
        }
    }

    static func family(of address: IPAddress) -> Ruleset.Family { address.ipv4 != nil ? .ipv4 : .ipv6 }

    /// A counting set's key as an address (4 or 16 bytes).
    static func address(_ key: [UInt8]) -> IPAddress? {
        key.count == 4 ? IPv4Address(octets: key).map(IPAddress.v4) : IPv6Address(bytes: key).map(IPAddress.v6)
    }

    /// Counting elements outlive the session a little, so the session's end can
    /// still read them after the kernel has let the access element expire.
    static let accountingGrace: Duration = .seconds(600)

    static func milliseconds(_ timeout: Duration?) -> UInt64? {
        timeout.map { UInt64(max(1, $0.components.seconds * 1000 + $0.components.attoseconds / 1_000_000_000_000_000)) }
    }

    func addMessages(_ devices: [AuthorizedDevice]) -> [NetfilterMessage] {
        // One counting element per address (an address has one owner at a time; the last one given wins).
        var seen = Set<IPAddress>()
        let counting = devices.reversed().filter { seen.insert($0.address).inserted }.reversed()
        var messages: [NetfilterMessage] = []
        for family in Ruleset.Family.allCases {
            let access = devices.filter { Self.family(of: $0.address) == family }
            guard !access.isEmpty else { continue }
            let sets = Ruleset.sets(for: family)
            messages += chunks(access.map { SetElement(key: Ruleset.key($0.key), timeoutMilliseconds: Self.milliseconds($0.timeout)) })
                .map { .newElements(table: settings.table, set: sets.access, $0) }
            let counted = counting.filter { Self.family(of: $0.address) == family }
                .map { SetElement(key: $0.address.bytes, timeoutMilliseconds: Self.milliseconds($0.timeout.map { $0 + Self.accountingGrace })) }
            messages += [sets.up, sets.down].flatMap { set in
                chunks(counted).map { NetfilterMessage.newElements(table: settings.table, set: set, $0) }
            }
            // Into its tier's sets, for as long as its access.
            for (tier, _, setFamily, spec) in tierSets where setFamily == family {
                let limited = counting.filter { $0.tier == tier.name && Self.family(of: $0.address) == family }
                    .map { SetElement(key: $0.address.bytes, timeoutMilliseconds: Self.milliseconds($0.timeout)) }
                messages += chunks(limited).map { .newElements(table: settings.table, set: spec.name, $0) }
            }
        }
        return messages
    }

    private func deleteMessages(_ devices: [DeviceKey]) -> [NetfilterMessage] {
        var messages: [NetfilterMessage] = []
        for family in Ruleset.Family.allCases {
            let access = devices.filter { Self.family(of: $0.address) == family }
            guard !access.isEmpty else { continue }
            let sets = Ruleset.sets(for: family)
            messages += chunks(access.map { Ruleset.key($0) }).map { .deleteElements(table: settings.table, set: sets.access, $0) }
            let counting = Set(access.map(\.address)).sorted().map(\.bytes)  // deleting one twice would fail the transaction
            messages += [sets.up, sets.down].flatMap { set in
                chunks(counting).map { NetfilterMessage.deleteElements(table: settings.table, set: set, $0) }
            }
            // Out of whichever tier it was in: added first, so the delete finds it in every one.
            for (_, _, setFamily, spec) in tierSets where setFamily == family {
                messages += chunks(counting).flatMap { chunk -> [NetfilterMessage] in
                    [.newElements(table: settings.table, set: spec.name, chunk.map { SetElement(key: $0) }),
                     .deleteElements(table: settings.table, set: spec.name, chunk)]
                }
            }
        }
        return messages
    }

    func chunks<T>(_ items: [T]) -> [[T]] {
        stride(from: 0, to: items.count, by: Self.elementsPerMessage).map {
            Array(items[$0..<min($0 + Self.elementsPerMessage, items.count)])
        }
    }
}
