import Synchronization

/// The configured tiers as the daemon's parts read them while running: their names (what
/// staff may give `auth`) and their quotas and idle timeouts (what housekeeping enforces).
/// A reload replaces them.
final class TierSettings: Sendable {
    private let current: Mutex<(names: Set<String>, limits: [String: SessionLimits])>

    init(_ config: Config) {
        current = Mutex(Self.read(config))
    }

    var names: Set<String> { current.withLock { $0.names } }
    var limits: [String: SessionLimits] { current.withLock { $0.limits } }

    func replace(with config: Config) {
        let read = Self.read(config)
        current.withLock { $0 = read }
    }

    private static func read(_ config: Config) -> (names: Set<String>, limits: [String: SessionLimits]) {
        let names = Set(config.firewall.tiers.map(\.name))
        // Without a kernel nothing is counted: an idle timeout would end every session.
        guard config.firewall.backend == .nftables else { return (names, [:]) }
        let limits = Dictionary(uniqueKeysWithValues: config.firewall.tiers.compactMap { tier in
            tier.quotaBytes != nil || tier.idleMinutes != nil
                ? (tier.name, SessionLimits(quotaBytes: tier.quotaBytes, idle: tier.idleMinutes.map { .seconds($0 * 60) })) : nil
        })
        return (names, limits)
    }
}
