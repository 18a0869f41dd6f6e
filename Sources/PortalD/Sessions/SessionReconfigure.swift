import Firewall
import Foundation

extension SessionService {
    /// A reload's tiers, walled-garden networks and default tier. When the tiers or the
    /// garden differ, the table is installed again with every live session, in one netlink
    /// transaction (the old table goes in the same one), so no guest is ever without
    /// access, and their counters are carried over first. A session whose tier is gone
    /// keeps its access, unlimited by any tier. Returns whether the table was replaced;
    /// when the install fails, the firewall and the default tier go back to the running
    /// ones (which the kernel still holds) and the error is thrown, so a reload of the
    /// same file tries again.
    @discardableResult
    public func reconfigure(tiers: [BandwidthTier], walledGarden: [IPNetwork], defaultTier: String?) throws -> Bool {
        try changes.withLock { state in
            guard let previous = firewall.reconfigure(tiers: tiers, walledGarden: walledGarden) else {
                defaultTierSetting.withLock { $0 = defaultTier }
                return false
            }
            let started = ContinuousClock.now
            let desired: [AuthorizedDevice]
            do {
                desired = try desiredDevices()
                // Counters are read before and carried over after; only the install itself
                // decides whether the kernel has the new table.
                let traffic = counters() ?? [:]
                try firewall.install(devices: desired)
                if !traffic.isEmpty {
                    do {
                        try carryOver(traffic)
                    } catch {
                        logger.error("the counters read before the table was installed again could not be saved; those bytes are lost",
                                     metadata: ["error": "\(error)"])
                    }
                }
                metrics.firewallApplied(.install, duration: .now - started, failed: false)
            } catch {
                _ = firewall.reconfigure(tiers: previous.tiers, walledGarden: previous.walledGarden)
                state.needsReconcile = true
                metrics.firewallApplied(.install, duration: .now - started, failed: true)
                throw error
            }
            // Only now: a login meanwhile must not be given a tier the kernel does not have yet.
            defaultTierSetting.withLock { $0 = defaultTier }
            state.installed(desired, cause: "reload", at: now(), started: started)
            return true
        }
    }
}
