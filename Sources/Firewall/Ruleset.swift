/// portald's nftables table, described as data. `Netfilter.swift` turns this into
/// netlink messages; nothing here touches C. The equivalent in nft syntax:
///
/// ```
/// table inet portald {
///   set authorized { type ether_addr . ipv4_addr; flags timeout; }
///   chain prerouting {    # nat, dstnat-1: send unauthorized guests' web traffic to the portal
///     iifname LAN ether saddr . ip saddr @authorized return
///     iifname LAN meta nfproto ipv4 tcp dport 80 dnat ip to PORTAL:PORT
///   }
///   set acct_up { type ipv4_addr; flags timeout; counter; }    # bytes per guest, each direction
///   set acct_down { type ipv4_addr; flags timeout; counter; }
///   chain forward_guests { # filter: nothing leaves the LAN unless authorized
///     oifname LAN ip daddr @acct_down
///     iifname LAN ether saddr . ip saddr @authorized ip saddr @acct_up
///     iifname LAN ether saddr . ip saddr @authorized accept
///     iifname LAN tcp dport 443 reject with tcp reset   # phones fail fast instead of timing out
///     iifname LAN drop                                   # IPv6 included: no leak past the portal
///   }
///   chain input_guests {   # filter: guests reach only DNS, DHCP, ICMP and the portal on the gateway
///     iifname LAN ct state established,related accept
///     iifname LAN udp dport {53, 67, 547} accept; iifname LAN tcp dport {53, PORT} accept
///     iifname LAN meta l4proto {icmp, ipv6-icmp} accept
///     iifname LAN drop
///   }
/// }
/// ```
enum Ruleset {
    static let authorizedSet = "authorized"
    static let authorizedSetID: UInt32 = 1
    /// Per-address byte counters: one set for each direction, keyed by the guest's
    /// IPv4 address, looked up once per forwarded packet (never in prerouting, which
    /// would count a connection's first packet twice).
    static let uploadSet = "acct_up"
    static let downloadSet = "acct_down"

    struct SetSpec {
        var name: String
        var id: UInt32
        var keyType: UInt32
        var keyLength: UInt32
        var counter: Bool
    }

    static let sets: [SetSpec] = [
        SetSpec(name: authorizedSet, id: authorizedSetID, keyType: keyType, keyLength: keyLength, counter: false),
        SetSpec(name: uploadSet, id: 2, keyType: 7, keyLength: 4, counter: true),
        SetSpec(name: downloadSet, id: 3, keyType: 7, keyLength: 4, counter: true),
    ]

    static func set(named name: String) -> SetSpec? { sets.first { $0.name == name } }

    enum Hook { case prerouting, input, forward }
    enum ChainType: String { case nat, filter }

    struct Chain {
        var name: String
        var type: ChainType
        var hook: Hook
        var priority: Int32
    }

    enum Verdict { case accept, drop, `return` }
    enum MetaKey { case iifname, oifname, iiftype, nfproto, l4proto }
    enum PayloadBase { case link, network, transport }
    enum CmpOp { case eq, neq }

    /// Registers as the kernel numbers them: 0 is the verdict, 1–4 are 16-byte
    /// registers, 8–23 the same space in 4-byte steps (used by concatenations).
    enum Register {
        static let verdict: UInt32 = 0
        static let r1: UInt32 = 1
        static let r2: UInt32 = 2
        static let r32_2: UInt32 = 10
    }

    enum Expression {
        case meta(MetaKey, into: UInt32)
        case payload(PayloadBase, offset: UInt32, length: UInt32, into: UInt32)
        case cmp(CmpOp, register: UInt32, data: [UInt8])
        case ctState(into: UInt32)
        case bitwise(register: UInt32, mask: [UInt8])
        case lookup(set: String, setID: UInt32, register: UInt32)
        case immediate(register: UInt32, data: [UInt8])
        case verdict(Verdict)
        case dnatIPv4(addressRegister: UInt32, portRegister: UInt32)
        case rejectTCPReset
    }

    struct Rule {
        var chain: String
        var expressions: [Expression]
    }

    static let chains: [Chain] = [
        Chain(name: "prerouting", type: .nat, hook: .prerouting, priority: -100),
        Chain(name: "forward_guests", type: .filter, hook: .forward, priority: 0),
        Chain(name: "input_guests", type: .filter, hook: .input, priority: 0),
    ]

    static func rules(for settings: CaptureSettings) -> [Rule] {
        let lan = fromLAN(settings.lanInterface)
        let portal = settings.portalAddress.octets
        let port = bigEndian(settings.portalPort)
        let tcp: UInt8 = 6, udp: UInt8 = 17, icmp: UInt8 = 1, icmpv6: UInt8 = 58

        var rules: [Rule] = [
            Rule(chain: "prerouting", expressions: lan + authorizedLookup + [.verdict(.return)]),
            Rule(chain: "prerouting", expressions: lan + [
                .meta(.nfproto, into: Register.r1), .cmp(.eq, register: Register.r1, data: [2]),  // NFPROTO_IPV4
            ] + destinationPort(tcp, 80) + [
                .immediate(register: Register.r1, data: portal),
                .immediate(register: Register.r2, data: port),
                .dnatIPv4(addressRegister: Register.r1, portRegister: Register.r2),
            ]),
            Rule(chain: "forward_guests", expressions: interface(.oifname, settings.lanInterface) + ipv4Address(offset: 16) + [
                .lookup(set: downloadSet, setID: 3, register: Register.r1),
            ]),
            // Only an authorized device's packets count: a device that took over an address
            // (DHCP reuse) adds nothing to the previous owner's bytes before it logs in.
            Rule(chain: "forward_guests", expressions: lan + authorizedLookup + ipv4Address(offset: 12) + [
                .lookup(set: uploadSet, setID: 2, register: Register.r1),
            ]),
            Rule(chain: "forward_guests", expressions: lan + authorizedLookup + [.verdict(.accept)]),
            Rule(chain: "forward_guests", expressions: lan + destinationPort(tcp, 443) + [.rejectTCPReset]),
            Rule(chain: "forward_guests", expressions: lan + [.verdict(.drop)]),
            Rule(chain: "input_guests", expressions: lan + [
                .ctState(into: Register.r1),
                .bitwise(register: Register.r1, mask: [0x06, 0, 0, 0]),  // established | related
                .cmp(.neq, register: Register.r1, data: [0, 0, 0, 0]),
                .verdict(.accept),
            ]),
        ]
        let allowed: [(UInt8, UInt16)] = [(udp, 53), (udp, 67), (udp, 547), (tcp, 53), (tcp, settings.portalPort)]
        for (proto, port) in allowed {
            rules.append(Rule(chain: "input_guests", expressions: lan + destinationPort(proto, port) + [.verdict(.accept)]))
        }
        for proto in [icmp, icmpv6] {
            rules.append(Rule(chain: "input_guests", expressions: lan + [
                .meta(.l4proto, into: Register.r1), .cmp(.eq, register: Register.r1, data: [proto]), .verdict(.accept),
            ]))
        }
        rules.append(Rule(chain: "input_guests", expressions: lan + [.verdict(.drop)]))
        return rules
    }

    /// `iifname LAN`: the kernel compares the full 16-byte name buffer.
    private static func fromLAN(_ name: String) -> [Expression] { interface(.iifname, name) }

    private static func interface(_ key: MetaKey, _ name: String) -> [Expression] {
        var data = Array(name.utf8.prefix(15))
        data += [UInt8](repeating: 0, count: 16 - data.count)
        return [.meta(key, into: Register.r1), .cmp(.eq, register: Register.r1, data: data)]
    }

    /// `ip saddr` (offset 12) or `ip daddr` (16) into register 1, IPv4 packets only.
    private static func ipv4Address(offset: UInt32) -> [Expression] {
        [.meta(.nfproto, into: Register.r1), .cmp(.eq, register: Register.r1, data: [2]),
         .payload(.network, offset: offset, length: 4, into: Register.r1)]
    }

    /// `ether saddr . ip saddr @authorized`, with the type checks nft adds for it.
    private static let authorizedLookup: [Expression] = [
        .meta(.iiftype, into: Register.r1), .cmp(.eq, register: Register.r1, data: [1, 0]),  // ARPHRD_ETHER
        .payload(.link, offset: 12, length: 2, into: Register.r1), .cmp(.eq, register: Register.r1, data: [0x08, 0x00]),
        .payload(.link, offset: 6, length: 6, into: Register.r1),
        .payload(.network, offset: 12, length: 4, into: Register.r32_2),
        .lookup(set: authorizedSet, setID: authorizedSetID, register: Register.r1),
    ]

    private static func destinationPort(_ proto: UInt8, _ port: UInt16) -> [Expression] {
        [
            .meta(.l4proto, into: Register.r1), .cmp(.eq, register: Register.r1, data: [proto]),
            .payload(.transport, offset: 2, length: 2, into: Register.r1),
            .cmp(.eq, register: Register.r1, data: bigEndian(port)),
        ]
    }

    private static func bigEndian(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }

    /// The set's key: MAC padded to 8 bytes (concatenated fields are 4-byte aligned), then IPv4.
    static func key(mac: MACAddress, ipv4: IPv4Address) -> [UInt8] {
        mac.bytes + [0, 0] + ipv4.octets
    }

    /// The device an element of the authorized set stands for.
    static func device(key: [UInt8]) -> DeviceKey? {
        guard key.count == keyLength, let mac = MACAddress(bytes: Array(key[0..<6])), let ipv4 = IPv4Address(octets: Array(key[8..<12])) else {
            return nil
        }
        return DeviceKey(mac: mac, ipv4: ipv4)
    }

    /// nft's type id for `ether_addr . ipv4_addr` (ether_addr is 9, ipv4_addr 7; 6 bits a field).
    static let keyType: UInt32 = (9 << 6) | 7
    static let keyLength: UInt32 = 12
}
