import Synchronization

/// The configured tiers and walled garden as the daemon's parts read them while running:
/// the tiers' names (what staff may give `auth`), their quotas and idle timeouts (what
/// housekeeping enforces), and the garden (what `firewall show` lists). A reload replaces them.
final class TierSettings: Sendable {
    private struct Current {
        var names: Set<String>
        var limits: [String: SessionLimits]
        var garden: Config.WalledGarden
    }

    private let current: Mutex<Current>

    init(_ config: Config) {
        current = Mutex(Self.read(config))
    }

    var names: Set<String> { current.withLock { $0.names } }
    var limits: [String: SessionLimits] { current.withLock { $0.limits } }
    var garden: Config.WalledGarden { current.withLock { $0.garden } }

    func replace(with config: Config) {
        let read = Self.read(config)
        current.withLock { $0 = read }
    }

    private static func read(_ config: Config) -> Current {
        let names = Set(config.firewall.tiers.map(\.name))
        // Without a kernel nothing is counted: an idle timeout would end every session.
        let limits = config.firewall.backend != .nftables ? [:] : Dictionary(uniqueKeysWithValues: config.firewall.tiers.compactMap { tier in
            tier.quotaBytes != nil || tier.idleMinutes != nil
                ? (tier.name, SessionLimits(quotaBytes: tier.quotaBytes, idle: tier.idleMinutes.map { .seconds($0 * 60) })) : nil
        })
        return Current(names: names, limits: limits, garden: config.firewall.walledGarden)
    }
}
