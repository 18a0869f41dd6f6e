import Firewall
import Foundation
import GRDB

extension SessionService {
    /// Binds to each live session the addresses the kernel's neighbour table shows for
    /// its MAC and the session lacks, and lets them through: IPv6 addresses (global or
    /// unique-local; link-local ones are never forwarded) and, for a session that has
    /// none, one IPv4 address. A phone's new privacy address, or the IPv4 address of a
    /// device that logged in over IPv6, is online within a tick of the kernel seeing it.
    /// An address another live session holds stays that session's. Housekeeping calls
    /// this every tick; it writes only when there is something to bind.
    @discardableResult
    public func bindAddresses(from neighbours: [Neighbour]) throws -> [DeviceKey] {
        let seen = Dictionary(grouping: neighbours, by: \.mac)
        guard !seen.isEmpty else { return [] }
        return try changes.withLock { state in
            let at = now()
            let sessions = try store.pool.read { db in try SessionRecords.active("expires_at > ?", [at], in: db) }
            var owners = Set(sessions.flatMap(\.device.addresses))
            var binding: [(session: String, device: AuthorizedDevice)] = []
            for session in sessions {
                guard let addresses = seen[session.mac] else { continue }
                var hasIPv4 = session.ipv4 != nil
                for neighbour in addresses where !owners.contains(neighbour.address) {
                    switch neighbour.address {
                    case .v6(let address) where address.isLinkLocal: continue
                    case .v4 where hasIPv4: continue
                    case .v4: hasIPv4 = true
                    case .v6: break
                    }
                    owners.insert(neighbour.address)
                    let timeout = Duration.seconds(max(1, session.secondsRemaining(at: at)))
                    binding.append((session.id, AuthorizedDevice(mac: session.mac, address: neighbour.address, timeout: timeout)))
                }
            }
            guard !binding.isEmpty else { return [] }
            try store.pool.write { db in
                for (session, device) in binding {
                    try SessionRecords.insert(device.address, of: session, in: db)
                }
            }
            let devices = binding.map(\.device)
            try apply(&state, removing: [], adding: devices, "bind \(devices.count) address(es)")
            for device in devices {
                logger.info("address bound to its device's session", metadata: ["mac": "\(device.mac)", "address": "\(device.address)"])
            }
            return devices.map(\.key)
        }
    }
}
