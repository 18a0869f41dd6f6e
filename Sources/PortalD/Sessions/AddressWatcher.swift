import Firewall
import Foundation
import GRDB

extension SessionService {
    /// How many IPv6 addresses one session may hold: a phone uses a few at a time (a
    /// stable one, a privacy one a day); a device announcing hundreds only grows the
    /// kernel's set.
    public static let ipv6PerSession = 16

    /// Binds to each live session the addresses the kernel's neighbour table confirms for
    /// its MAC and the session lacks, and lets them through: IPv6 addresses (global or
    /// unique-local; link-local ones are never forwarded), up to `ipv6PerSession`, and,
    /// for a session that has none, one IPv4 address (not 169.254/16). A phone's new
    /// privacy address, or the IPv4 address of a device that logged in over IPv6, is
    /// online within a tick of the kernel confirming it. Only confirmed entries count
    /// (reachable or permanent): a stale one may be an old lease, or left by a packet
    /// anyone can send. An address another session still holds (ended or not, until it
    /// ends) stays that session's. Housekeeping calls this every tick; it takes the lock
    /// and writes only when there is something to bind.
    @discardableResult
    public func bindAddresses(from neighbours: [Neighbour]) throws -> [DeviceKey] {
        let seen = Dictionary(grouping: neighbours.filter(\.confirmed), by: \.mac)
        guard !seen.isEmpty, try !candidates(seen).isEmpty else { return [] }
        return try changes.withLock { state in
            let binding = try candidates(seen)  // again, under the lock: a login may have come between
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

    /// What `seen` adds to the sessions: (session id, the element to add).
    private func candidates(_ seen: [MACAddress: [Neighbour]]) throws -> [(session: String, device: AuthorizedDevice)] {
        let at = now()
        let open = try store.pool.read { db in try SessionRecords.active(in: db) }
        var owners = Set(open.flatMap(\.device.addresses))
        var binding: [(session: String, device: AuthorizedDevice)] = []
        for session in open where session.expiresAt > at {
            guard let addresses = seen[session.mac] else { continue }
            var hasIPv4 = session.ipv4 != nil
            var ipv6Count = session.device.ipv6.count
            for neighbour in addresses where !owners.contains(neighbour.address) {
                switch neighbour.address {
                case .v6(let address) where address.isLinkLocal: continue
                case .v6 where ipv6Count >= Self.ipv6PerSession: continue
                case .v6: ipv6Count += 1
                case .v4(let address) where address.isLinkLocal: continue
                case .v4 where hasIPv4: continue
                case .v4: hasIPv4 = true
                }
                owners.insert(neighbour.address)
                let timeout = Duration.seconds(max(1, session.secondsRemaining(at: at)))
                binding.append((session.id, AuthorizedDevice(mac: session.mac, address: neighbour.address, timeout: timeout, tier: session.tier)))
            }
        }
        return binding
    }
}
