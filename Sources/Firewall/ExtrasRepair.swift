#if canImport(Glibc)
import Glibc
#endif

/// What `Firewall.repairExtras` changed: the sets beside the guests' access and counting
/// sets that the reconciler keeps in line too.
public struct ExtrasRepair: Sendable, Equatable {
    /// Addresses put into their device's tier's sets.
    public var tierAdded: [IPAddress] = []
    /// Addresses taken out of a tier's sets their device is not in (or with no device).
    public var tierRemoved: [IPAddress] = []
    /// The walled garden's networks differed from the configuration and were put back.
    public var gardenRestored = false
    /// A tier's or the garden's set is missing: the table must be installed anew.
    public var tableIncomplete = false

    public init(tierAdded: [IPAddress] = [], tierRemoved: [IPAddress] = [], gardenRestored: Bool = false, tableIncomplete: Bool = false) {
        self.tierAdded = tierAdded
        self.tierRemoved = tierRemoved
        self.gardenRestored = gardenRestored
        self.tableIncomplete = tableIncomplete
    }
}

extension NFTablesFirewall {
    /// A tier's sets lose an element to `nft delete element` or a flush, and the device
    /// runs unlimited; a flushed garden set strands guests on the way to the payment
    /// page. Each is read back and put right in one transaction. (The garden's host
    /// addresses are not: dnsmasq adds to them as it resolves, so no list is "right".)
    public func repairExtras(desired: [AuthorizedDevice]) throws -> ExtrasRepair {
        defer { prefetched.withLock { $0.sets = nil } }  // read for this reconcile only
        var repair = ExtrasRepair()
        var messages: [NetfilterMessage] = []
        do {
            // The tier each address should be in: its last device's, as the install counts it.
            var expected: [IPAddress: AuthorizedDevice] = [:]
            for device in desired { expected[device.address] = device }
            var missing = Set<IPAddress>()
            var strays = Set<IPAddress>()
            for (tier, _, family, spec) in tierSets {
                let present = Set(try readForRepair(spec.name).compactMap { Self.address($0.key) })
                let wrong = present.filter { expected[$0]?.tier != tier.name }.sorted()
                // Added first, so the delete cannot fail on an element that expired since the read.
                messages += chunks(wrong.map { SetElement(key: $0.bytes) }).flatMap { chunk -> [NetfilterMessage] in
                    [.newElements(table: settings.table, set: spec.name, chunk), .deleteElements(table: settings.table, set: spec.name, chunk.map(\.key))]
                }
                strays.formUnion(wrong)
                for (address, device) in expected where device.tier == tier.name && Self.family(of: address) == family && !present.contains(address) {
                    missing.insert(address)
                }
            }
            repair.tierAdded = missing.sorted()
            repair.tierRemoved = strays.sorted()
            // The whole device, in the same transaction: its other elements, present, keep their counters.
            messages += addMessages(repair.tierAdded.compactMap { expected[$0] })
            // The garden's networks, compared as the keys the install sends (end markers
            // included); a set that should be empty and is not counts too.
            let configured = gardenMessages()
            for set in [Ruleset.gardenSet, Ruleset.gardenSet6] {
                let elements = configured.lazy.compactMap { message -> [SetElement]? in
                    if case .newElements(_, set, let elements) = message { elements } else { nil }
                }.first ?? []
                let present = try readForRepair(set).map(\.key).sorted { $0.lexicographicallyPrecedes($1) }
                guard present != elements.map(\.key).sorted(by: { $0.lexicographicallyPrecedes($1) }) else { continue }
                messages.append(.deleteElements(table: settings.table, set: set, []))  // a flush, then the configured ones
                if !elements.isEmpty { messages.append(.newElements(table: settings.table, set: set, elements)) }
                repair.gardenRestored = true
            }
        } catch let error as FirewallError where error.errno == ENOENT {
            return ExtrasRepair(tableIncomplete: true)  // a set is gone: the reconciler installs the table anew
        }
        if !messages.isEmpty { try commit(messages) }
        return repair
    }
}
