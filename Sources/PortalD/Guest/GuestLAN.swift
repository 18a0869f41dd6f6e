import Firewall

/// The device behind a request on the portal listener: its IPv4 address and the MAC
/// the kernel's neighbour table holds for it on the LAN interface. A request from
/// anywhere else (upstream, a reverse proxy, IPv6) has none, and cannot log a device in.
struct GuestLAN: Sendable {
    let neighbours: NeighbourTable
    /// With `backend = "none"` there may be no ARP entry (a laptop, loopback): a
    /// stable locally administered MAC is derived from the address instead.
    let derivesMissingMAC: Bool

    func mac(for ipv4: IPv4Address) -> MACAddress? {
        if let mac = neighbours.mac(for: ipv4) { return mac }
        return derivesMissingMAC ? MACAddress(bytes: [0x02, 0x00] + ipv4.octets) : nil
    }

    func device(at clientAddress: String) -> DeviceBinding? {
        guard let ipv4 = IPv4Address(clientAddress), let mac = mac(for: ipv4) else { return nil }
        return DeviceBinding(mac: mac, ipv4: ipv4)
    }
}
