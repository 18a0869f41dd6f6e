import Firewall

/// The device behind a request on the portal listener: its address (IPv4 or IPv6)
/// and the MAC the kernel's neighbour table holds for it on the LAN interface. A
/// request from anywhere else (upstream, a reverse proxy) has none, and cannot log a
/// device in.
struct GuestLAN: Sendable {
    let neighbours: any NeighbourTable
    /// With `backend = "none"` there may be no neighbour entry (a laptop, loopback): a
    /// stable locally administered MAC is derived from the address instead.
    let derivesMissingMAC: Bool

    func mac(for address: IPAddress) -> MACAddress? {
        if let mac = neighbours.mac(for: address) { return mac }
        return derivesMissingMAC ? MACAddress(bytes: [0x02, 0x00] + address.bytes.suffix(4)) : nil
    }

    /// The request's device: its MAC and the address it came from.
    func device(at clientAddress: String) -> DeviceKey? {
        guard let address = IPAddress(clientAddress)?.unmapped, let mac = mac(for: address) else { return nil }
        return DeviceKey(mac: mac, address: address)
    }
}
