import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

extension NFTablesFirewall {
    /// Every set the reconciler compares, read at once: the guests' (access and counting,
    /// both families), the trusted and blocked ones, the tiers' and the garden's (kept
    /// for `repairExtras`). Nil when one is missing (`nft flush ruleset`, a table from
    /// before IPv6 or before a tier was configured): the reconciler installs it anew.
    public func state() throws -> FirewallState? {
        let guests = Ruleset.Family.allCases.map { Ruleset.sets(for: $0) }
        let extras = tierSets.map(\.spec.name) + [Ruleset.gardenSet, Ruleset.gardenSet6]
        let read: [String: [ElementReading]]
        let epoch = prefetched.withLock { $0.epoch }
        do {
            // IPv4's sets and the tiers' first (where 10 000 guests are), so the two readers share them out evenly.
            let ipv4 = guests[0], ipv6 = guests[1]
            read = try dump([ipv4.access, ipv4.up, ipv4.down] + tierSets.filter { $0.family == .ipv4 }.map(\.spec.name)
                            + [ipv6.access, ipv6.up, ipv6.down] + tierSets.filter { $0.family == .ipv6 }.map(\.spec.name)
                            + [Ruleset.gardenSet, Ruleset.gardenSet6, Ruleset.trustedSet, Ruleset.blockedSet])
        } catch let error as FirewallError where error.errno == ENOENT {
            prefetched.withLock { $0.sets = nil }
            return nil
        }
        // Kept only if no commit came during the read.
        prefetched.withLock { if $0.epoch == epoch { $0.sets = read.filter { extras.contains($0.key) } } }
        var authorized = Set<DeviceKey>()
        var counted = Set<IPAddress>()
        for sets in guests {
            authorized.formUnion(read[sets.access, default: []].compactMap { Ruleset.device(key: $0.key) })
            let up = read[sets.up, default: []].compactMap { Self.address($0.key) }
            let down = read[sets.down, default: []].compactMap { Self.address($0.key) }
            counted.formUnion(Set(up).intersection(down))
        }
        let trusted = read[Ruleset.trustedSet, default: []].compactMap { MACAddress(bytes: $0.key) }
        let blocked = read[Ruleset.blockedSet, default: []].compactMap { MACAddress(bytes: $0.key) }
        return FirewallState(authorized: authorized, counted: counted, rules: DeviceRules(trusted: Set(trusted), blocked: Set(blocked)))
    }

    /// One set as `state()` left it for this reconcile, or read now.
    func readForRepair(_ set: String) throws -> [ElementReading] {
        if let read = prefetched.withLock({ $0.sets?[set] }) { return read }
        return try socket.counters(table: settings.table, set: set)
    }

    /// Dumps `sets` on two sockets from two threads, each taking the next set in order;
    /// the first error (in `sets`' order) is thrown.
    private func dump(_ sets: [String]) throws -> [String: [ElementReading]] {
        let readers = [socket, dumpSocket]
        let next = Mutex(0)
        let results = Mutex<[String: Result<[ElementReading], any Error>]>([:])
        DispatchQueue.concurrentPerform(iterations: readers.count) { reader in
            while true {
                let index = next.withLock { index in
                    defer { index += 1 }
                    return index
                }
                guard index < sets.count else { return }
                let result = Result { try readers[reader].counters(table: settings.table, set: sets[index]) }
                results.withLock { $0[sets[index]] = result }
            }
        }
        return try results.withLock { results in
            try sets.reduce(into: [:]) { read, set in read[set] = try results[set]!.get() }
        }
    }
}
