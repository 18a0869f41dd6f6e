/// portald's nftables table, described as data. `Netfilter.swift` turns this into
/// netlink messages; nothing here touches C. The equivalent in nft syntax:
///
/// ```
/// table inet portald {
///   set authorized  { type ether_addr . ipv4_addr; flags timeout; }
///   set authorized6 { type ether_addr . ipv6_addr; flags timeout; }   # one element per address of a device
///   set acct_up { type ipv4_addr; flags timeout; counter; }            # bytes per guest address, each direction
///   set acct_down { type ipv4_addr; flags timeout; counter; }
///   set acct_up6 { type ipv6_addr; flags timeout; counter; }
///   set acct_down6 { type ipv6_addr; flags timeout; counter; }
///   set trusted { type ether_addr; }   # never captured (printers, staff devices)
///   set blocked { type ether_addr; }   # never let through
///   set garden4 { type ipv4_addr; flags interval; }   # the walled garden: configured networks,
///   set garden6 { type ipv6_addr; flags interval; }   # reachable before login
///   set garden_dns4 { type ipv4_addr; flags timeout; timeout 1h; }   # and its host names' addresses
///   set garden_dns6 { type ipv6_addr; flags timeout; timeout 1h; }   # (dnsmasq nftset=, or portald)
///   set tier_NAME_down4 { type ipv4_addr; flags timeout; limit rate over R bytes/second burst B; }   # a tier's
///   ... (_up4, _down6, _up6, for the directions the tier limits)                                   # addresses
///   chain prerouting {    # nat, dstnat: send unauthorized guests' web traffic to the portal
///     iifname LAN ether saddr @blocked meta nfproto ipv4 tcp dport 80 dnat ip to PORTAL:PORT   # (and ip6)
///     iifname LAN ether saddr @trusted return
///     iifname LAN ip daddr @garden4 return   # (and garden_dns4, ip6 daddr @garden6, @garden_dns6)
///     iifname LAN ether saddr . ip saddr @authorized return
///     iifname LAN ether saddr . ip6 saddr @authorized6 return
///     iifname LAN meta nfproto ipv4 tcp dport 80 dnat ip to PORTAL:PORT
///     iifname LAN meta nfproto ipv6 tcp dport 80 dnat ip6 to [PORTAL6]:PORT6   # with an IPv6 portal listener
///   }
///   chain forward_guests { # filter: nothing leaves the LAN unless authorized
///     iifname LAN ether saddr @blocked reject with icmpx admin-prohibited
///     iifname LAN ether saddr @trusted accept
///     oifname LAN ip daddr @tier_NAME_down4 drop   # over the rate (and _up4 with iifname/ip saddr, and ip6)
///     oifname LAN ip daddr @acct_down
///     oifname LAN ip6 daddr @acct_down6
///     iifname LAN ether saddr . ip saddr @authorized ip saddr @acct_up
///     iifname LAN ether saddr . ip6 saddr @authorized6 ip6 saddr @acct_up6
///     iifname LAN ether saddr . ip saddr @authorized accept
///     iifname LAN ether saddr . ip6 saddr @authorized6 accept
///     iifname LAN ip daddr @garden4 accept   # (and the other three garden sets)
///     iifname LAN tcp dport 443 reject with tcp reset   # phones fail fast instead of timing out
///     iifname LAN meta nfproto ipv6 reject with icmpx admin-prohibited   # answering makes the
///                                                       # gateway learn a new address's MAC
///     iifname LAN drop
///   }
///   chain input_guests {   # filter: guests reach only DNS, DHCP, ICMP and the portal on the gateway
///     iifname LAN ct state established,related accept
///     iifname LAN udp dport {53, 67, 547} accept; iifname LAN tcp dport {53, PORT, PORT6} accept
///     iifname LAN meta l4proto {icmp, ipv6-icmp} accept
///     iifname LAN drop
///   }
/// }
/// ```
enum Ruleset {
    static let authorizedSet = "authorized"
    static let authorizedSetID: UInt32 = 1
    static let authorizedSet6 = "authorized6"
    static let authorizedSet6ID: UInt32 = 4
    /// Per-address byte counters: one set for each direction and family, keyed by the
    /// guest's address, looked up once per forwarded packet (never in prerouting, which
    /// would count a connection's first packet twice).
    static let uploadSet = "acct_up"
    static let downloadSet = "acct_down"
    static let uploadSet6 = "acct_up6"
    static let downloadSet6 = "acct_down6"

    struct SetSpec {
        var name: String
        var id: UInt32
        var keyType: UInt32
        var keyLength: UInt32
        var counter: Bool
        /// Elements may carry a timeout (sessions' sets); the rule sets' do not.
        var timeout = true
        /// Elements are ranges (start, then the first key after it, marked as an end).
        var interval = false
        /// The timeout of an element added without one (by dnsmasq).
        var defaultTimeoutMilliseconds: UInt64?
        /// Each element polices its address's traffic to this rate (a tier's sets).
        var limit: (bytesPerSecond: UInt64, burstBytes: UInt32)?
    }

    /// A tier's sets: one a direction and family, each element limited to the tier's rate.
    /// `tier_<name>_up4` holds the addresses whose uploads are limited, and so on.
    static func tierSets(_ tiers: [BandwidthTier]) -> [(tier: BandwidthTier, up: Bool, family: Family, spec: SetSpec)] {
        let sets = tiers.flatMap { tier -> [(BandwidthTier, Bool, Family, SetSpec)] in
            [(true, tier.upBytesPerSecond), (false, tier.downBytesPerSecond)].flatMap { up, rate -> [(BandwidthTier, Bool, Family, SetSpec)] in
                guard let rate else { return [] }
                // A quarter second of traffic as burst: TCP keeps close to the rate instead of collapsing on each
                // drop. (The kernel's byte limit holds a second of the rate on top, full again after any pause.)
                let limit = (bytesPerSecond: rate, burstBytes: UInt32(clamping: max(rate / 4, 16_384)))
                return Family.allCases.map { family in
                    let name = "tier_\(tier.name)_\(up ? "up" : "down")\(family == .ipv4 ? "4" : "6")"
                    return (tier, up, family, SetSpec(name: name, id: 0, keyType: family == .ipv4 ? 7 : 8, keyLength: family == .ipv4 ? 4 : 16,
                                                      counter: false, limit: limit))
                }
            }
        }
        // Ids after the fixed sets', in order: what rules in the same transaction refer to.
        return sets.enumerated().map { index, entry in
            var spec = entry.3
            spec.id = 100 + UInt32(index)
            return (entry.0, entry.1, entry.2, spec)
        }
    }

    /// nft's type ids: ipv4_addr 7, ipv6_addr 8, ether_addr 9; a concatenation packs 6 bits a field.
    static let sets: [SetSpec] = [
        SetSpec(name: authorizedSet, id: authorizedSetID, keyType: (9 << 6) | 7, keyLength: 12, counter: false),
        SetSpec(name: uploadSet, id: 2, keyType: 7, keyLength: 4, counter: true),
        SetSpec(name: downloadSet, id: 3, keyType: 7, keyLength: 4, counter: true),
        SetSpec(name: authorizedSet6, id: authorizedSet6ID, keyType: (9 << 6) | 8, keyLength: 24, counter: false),
        SetSpec(name: uploadSet6, id: 5, keyType: 8, keyLength: 16, counter: true),
        SetSpec(name: downloadSet6, id: 6, keyType: 8, keyLength: 16, counter: true),
        SetSpec(name: trustedSet, id: 7, keyType: 9, keyLength: 6, counter: false, timeout: false),
        SetSpec(name: blockedSet, id: 8, keyType: 9, keyLength: 6, counter: false, timeout: false),
    ] + gardenSets
    static let trustedSet = "trusted"
    static let blockedSet = "blocked"
    /// The walled garden: what guests reach before login. The configured networks (interval
    /// sets), and the addresses host names resolve to (timeouts: dnsmasq's `nftset=` adds
    /// them for an hour, portald for their TTL).
    static let gardenSet = "garden4"
    static let gardenSet6 = "garden6"
    static let gardenHostsSet = "garden_dns4"
    static let gardenHostsSet6 = "garden_dns6"
    static let gardenSets: [SetSpec] = [
        SetSpec(name: gardenSet, id: 9, keyType: 7, keyLength: 4, counter: false, timeout: false, interval: true),
        SetSpec(name: gardenSet6, id: 10, keyType: 8, keyLength: 16, counter: false, timeout: false, interval: true),
        SetSpec(name: gardenHostsSet, id: 11, keyType: 7, keyLength: 4, counter: false, defaultTimeoutMilliseconds: 3_600_000),
        SetSpec(name: gardenHostsSet6, id: 12, keyType: 8, keyLength: 16, counter: false, defaultTimeoutMilliseconds: 3_600_000),
    ]

    /// The sets an address of `address`'s family lives in: (access, upload, download).
    static func sets(for address: IPAddress) -> (access: String, up: String, down: String) {
        sets(for: address.ipv4 != nil ? .ipv4 : .ipv6)
    }

    static func sets(for family: Family) -> (access: String, up: String, down: String) {
        switch family {
        case .ipv4: (authorizedSet, uploadSet, downloadSet)
        case .ipv6: (authorizedSet6, uploadSet6, downloadSet6)
        }
    }

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
    enum Family: CaseIterable { case ipv4, ipv6 }

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
        case dnat(Family, addressRegister: UInt32, portRegister: UInt32)
        case rejectTCPReset
        /// `reject with icmpx admin-prohibited`: ICMP or ICMPv6, as the packet's family.
        case rejectAdminProhibited
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

        // A blocked device's web traffic goes to the portal (its blocked page) before anything
        // else is asked, so no element it may still hold can send it past the page.
        var rules: [Rule] = [
            Rule(chain: "prerouting", expressions: lan + macLookup(blockedSet, id: 8) + family(.ipv4) + destinationPort(tcp, 80) + [
                .immediate(register: Register.r1, data: portal),
                .immediate(register: Register.r2, data: port),
                .dnat(.ipv4, addressRegister: Register.r1, portRegister: Register.r2),
            ]),
        ]
        if let portal6 = settings.portalAddress6 {
            rules.append(Rule(chain: "prerouting", expressions: lan + macLookup(blockedSet, id: 8) + family(.ipv6) + destinationPort(tcp, 80) + [
                .immediate(register: Register.r1, data: portal6.bytes),
                .immediate(register: Register.r2, data: bigEndian(settings.portalPort6)),
                .dnat(.ipv6, addressRegister: Register.r1, portRegister: Register.r2),
            ]))
        }
        rules += [
            Rule(chain: "prerouting", expressions: lan + macLookup(trustedSet, id: 7) + [.verdict(.return)]),
        ] + garden(.return, lan: lan) + [
            Rule(chain: "prerouting", expressions: lan + authorizedLookup + [.verdict(.return)]),
            Rule(chain: "prerouting", expressions: lan + authorizedLookup6 + [.verdict(.return)]),
            Rule(chain: "prerouting", expressions: lan + family(.ipv4) + destinationPort(tcp, 80) + [
                .immediate(register: Register.r1, data: portal),
                .immediate(register: Register.r2, data: port),
                .dnat(.ipv4, addressRegister: Register.r1, portRegister: Register.r2),
            ]),
        ]
        if let portal6 = settings.portalAddress6 {
            rules.append(Rule(chain: "prerouting", expressions: lan + family(.ipv6) + destinationPort(tcp, 80) + [
                .immediate(register: Register.r1, data: portal6.bytes),
                .immediate(register: Register.r2, data: bigEndian(settings.portalPort6)),
                .dnat(.ipv6, addressRegister: Register.r1, portRegister: Register.r2),
            ]))
        }
        rules += [
            // A blocked device gets nothing through, whatever else it holds (refused, so it gives up at
            // once); a trusted one everything, its uploads uncounted.
            Rule(chain: "forward_guests", expressions: lan + macLookup(blockedSet, id: 8) + [.rejectAdminProhibited]),
            Rule(chain: "forward_guests", expressions: lan + macLookup(trustedSet, id: 7) + [.verdict(.accept)]),
        ]
        // Bandwidth tiers: a packet over its address's rate is dropped (before it is counted).
        // One rule a tier, direction and family, however many devices the tier has.
        for (_, up, family, spec) in tierSets(settings.tiers) {
            let which = up ? interface(.iifname, settings.lanInterface) : interface(.oifname, settings.lanInterface)
            let offset: UInt32 = family == .ipv4 ? (up ? 12 : 16) : (up ? 8 : 24)
            rules.append(Rule(chain: "forward_guests", expressions: which + address(family, offset: offset) + [
                .lookup(set: spec.name, setID: spec.id, register: Register.r1), .verdict(.drop),
            ]))
        }
        rules += [
            Rule(chain: "forward_guests", expressions: interface(.oifname, settings.lanInterface) + address(.ipv4, offset: 16) + [
                .lookup(set: downloadSet, setID: 3, register: Register.r1),
            ]),
            Rule(chain: "forward_guests", expressions: interface(.oifname, settings.lanInterface) + address(.ipv6, offset: 24) + [
                .lookup(set: downloadSet6, setID: 6, register: Register.r1),
            ]),
            // Only an authorized device's packets count: a device that took over an address
            // (DHCP reuse) adds nothing to the previous owner's bytes before it logs in.
            Rule(chain: "forward_guests", expressions: lan + authorizedLookup + address(.ipv4, offset: 12) + [
                .lookup(set: uploadSet, setID: 2, register: Register.r1),
            ]),
            Rule(chain: "forward_guests", expressions: lan + authorizedLookup6 + address(.ipv6, offset: 8) + [
                .lookup(set: uploadSet6, setID: 5, register: Register.r1),
            ]),
            Rule(chain: "forward_guests", expressions: lan + authorizedLookup + [.verdict(.accept)]),
            Rule(chain: "forward_guests", expressions: lan + authorizedLookup6 + [.verdict(.accept)]),
        ] + garden(.accept, lan: lan) + [
            Rule(chain: "forward_guests", expressions: lan + destinationPort(tcp, 443) + [.rejectTCPReset]),
            // A device's new IPv6 address (a privacy address) is in no neighbour entry until the
            // gateway sends it something: this answer makes the kernel resolve it, so portald
            // sees the address and lets it through within seconds.
            Rule(chain: "forward_guests", expressions: lan + family(.ipv6) + [.rejectAdminProhibited]),
            Rule(chain: "forward_guests", expressions: lan + [.verdict(.drop)]),
            Rule(chain: "input_guests", expressions: lan + [
                .ctState(into: Register.r1),
                .bitwise(register: Register.r1, mask: [0x06, 0, 0, 0]),  // established | related
                .cmp(.neq, register: Register.r1, data: [0, 0, 0, 0]),
                .verdict(.accept),
            ]),
        ]
        var allowed: [(UInt8, UInt16)] = [(udp, 53), (udp, 67), (udp, 547), (tcp, 53), (tcp, settings.portalPort)]
        if settings.portalAddress6 != nil, settings.portalPort6 != settings.portalPort { allowed.append((tcp, settings.portalPort6)) }
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

    /// `iifname LAN ip daddr @garden4 <verdict>` and the same for the other three garden sets:
    /// `return` in prerouting (not sent to the portal), `accept` in forward_guests.
    private static func garden(_ verdict: Verdict, lan: [Expression]) -> [Rule] {
        let chain = verdict == .return ? "prerouting" : "forward_guests"
        return gardenSets.map { spec in
            let ipv4 = spec.keyLength == 4
            return Rule(chain: chain, expressions: lan + address(ipv4 ? .ipv4 : .ipv6, offset: ipv4 ? 16 : 24) + [
                .lookup(set: spec.name, setID: spec.id, register: Register.r1), .verdict(verdict),
            ])
        }
    }

    /// `meta nfproto ipv4` or `ipv6`.
    private static func family(_ family: Family) -> [Expression] {
        [.meta(.nfproto, into: Register.r1), .cmp(.eq, register: Register.r1, data: [family == .ipv4 ? 2 : 10])]
    }

    /// `ip saddr` (offset 12), `ip daddr` (16), `ip6 saddr` (8) or `ip6 daddr` (24) into
    /// register 1, packets of that family only.
    private static func address(_ which: Family, offset: UInt32) -> [Expression] {
        family(which) + [.payload(.network, offset: offset, length: which == .ipv4 ? 4 : 16, into: Register.r1)]
    }

    /// `ether saddr @set`, with the check nft adds for it (an Ethernet interface).
    private static func macLookup(_ set: String, id: UInt32) -> [Expression] {
        [.meta(.iiftype, into: Register.r1), .cmp(.eq, register: Register.r1, data: [1, 0]),
         .payload(.link, offset: 6, length: 6, into: Register.r1),
         .lookup(set: set, setID: id, register: Register.r1)]
    }

    /// `ether saddr . ip saddr @authorized`, with the type checks nft adds for it.
    private static let authorizedLookup: [Expression] = [
        .meta(.iiftype, into: Register.r1), .cmp(.eq, register: Register.r1, data: [1, 0]),  // ARPHRD_ETHER
        .payload(.link, offset: 12, length: 2, into: Register.r1), .cmp(.eq, register: Register.r1, data: [0x08, 0x00]),
        .payload(.link, offset: 6, length: 6, into: Register.r1),
        .payload(.network, offset: 12, length: 4, into: Register.r32_2),
        .lookup(set: authorizedSet, setID: authorizedSetID, register: Register.r1),
    ]

    /// `ether saddr . ip6 saddr @authorized6`: the same for IPv6 (EtherType 0x86dd).
    private static let authorizedLookup6: [Expression] = [
        .meta(.iiftype, into: Register.r1), .cmp(.eq, register: Register.r1, data: [1, 0]),
        .payload(.link, offset: 12, length: 2, into: Register.r1), .cmp(.eq, register: Register.r1, data: [0x86, 0xdd]),
        .payload(.link, offset: 6, length: 6, into: Register.r1),
        .payload(.network, offset: 8, length: 16, into: Register.r32_2),
        .lookup(set: authorizedSet6, setID: authorizedSet6ID, register: Register.r1),
    ]

    private static func destinationPort(_ proto: UInt8, _ port: UInt16) -> [Expression] {
        [
            .meta(.l4proto, into: Register.r1), .cmp(.eq, register: Register.r1, data: [proto]),
            .payload(.transport, offset: 2, length: 2, into: Register.r1),
            .cmp(.eq, register: Register.r1, data: bigEndian(port)),
        ]
    }

    private static func bigEndian(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xff)] }

    /// An authorized set's key: MAC padded to 8 bytes (concatenated fields are 4-byte
    /// aligned), then the address.
    static func key(_ device: DeviceKey) -> [UInt8] {
        device.mac.bytes + [0, 0] + device.address.bytes
    }

    static func key(mac: MACAddress, ipv4: IPv4Address) -> [UInt8] { key(DeviceKey(mac: mac, ipv4: ipv4)) }

    /// The device an element of an authorized set stands for.
    static func device(key: [UInt8]) -> DeviceKey? {
        guard key.count == 12 || key.count == 24, let mac = MACAddress(bytes: Array(key[0..<6])) else { return nil }
        let address = key.count == 12 ? IPv4Address(octets: Array(key[8...])).map(IPAddress.v4) : IPv6Address(bytes: Array(key[8...])).map(IPAddress.v6)
        return address.map { DeviceKey(mac: mac, address: $0) }
    }
}
