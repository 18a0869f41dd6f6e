/// A link-layer (Ethernet) address, written `aa:bb:cc:dd:ee:ff`.
///
/// Phones randomize their MAC per network, so a MAC identifies a device only on
/// this SSID and only for a while; portald pairs it with the IPv4 address.
public struct MACAddress: Hashable, Sendable, Comparable, AddressText {
    public let bytes: [UInt8]

    /// Accepts `:` or `-` separated hex, any case. Read as UTF-8 bytes: the reconciler
    /// parses every session's MAC, and Character-wise parsing cost microseconds each.
    public init?(_ text: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(6)
        var high: UInt8?
        var digits = 0
        for unit in text.utf8 {
            if unit == UInt8(ascii: ":") || unit == UInt8(ascii: "-") {
                guard digits == 2, bytes.count < 6 else { return nil }
                digits = 0
                continue
            }
            guard let value = hexValue(unit), digits < 2, bytes.count < 6 else { return nil }
            digits += 1
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        guard digits == 2, bytes.count == 6 else { return nil }
        self.bytes = bytes
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 6 else { return nil }
        self.bytes = bytes
    }

    public var description: String {
        var text: [UInt8] = []
        text.reserveCapacity(17)
        for (index, byte) in bytes.enumerated() {
            if index > 0 { text.append(UInt8(ascii: ":")) }
            text.append(hexDigit(byte >> 4))
            text.append(hexDigit(byte & 0xf))
        }
        return String(decoding: text, as: UTF8.self)
    }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}

/// An IPv4 address in dotted-quad form.
public struct IPv4Address: Hashable, Sendable, Comparable, AddressText {
    public let octets: [UInt8]

    /// Four decimal octets, no leading zeros ("010" is octal to some parsers and decimal
    /// to others), no signs. Read as UTF-8 bytes, like the MAC.
    public init?(_ text: String) {
        var octets: [UInt8] = []
        octets.reserveCapacity(4)
        var value = 0
        var digits = 0
        var leadingZero = false
        for unit in text.utf8 {
            if unit == UInt8(ascii: ".") {
                guard digits > 0, octets.count < 3 else { return nil }
                octets.append(UInt8(value))
                value = 0
                digits = 0
                continue
            }
            guard unit >= UInt8(ascii: "0"), unit <= UInt8(ascii: "9"), digits == 0 || !leadingZero else { return nil }
            if digits == 0 { leadingZero = unit == UInt8(ascii: "0") }
            value = value * 10 + Int(unit - UInt8(ascii: "0"))
            digits += 1
            guard digits <= 3, value <= 255 else { return nil }
        }
        guard digits > 0, octets.count == 3 else { return nil }
        octets.append(UInt8(value))
        self.octets = octets
    }

    public init?(octets: [UInt8]) {
        guard octets.count == 4 else { return nil }
        self.octets = octets
    }

    public var description: String { octets.map(String.init).joined(separator: ".") }

    /// 169.254/16: an address a device gives itself without a lease, never a guest's.
    public var isLinkLocal: Bool { octets[0] == 169 && octets[1] == 254 }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.octets.lexicographicallyPrecedes(rhs.octets) }
}

/// The value of an ASCII hex digit, any case.
@inline(__always)
func hexValue(_ unit: UInt8) -> UInt8? {
    switch unit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): unit - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): unit - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): unit - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// A nibble as a lowercase ASCII hex digit.
@inline(__always)
func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10 }

/// An address written as text: encoded as that text in JSON and the database.
public protocol AddressText: LosslessStringConvertible, Codable {}

extension AddressText {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = Self(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a valid \(Self.self): \(text)"))
        }
        self = address
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// An IPv6 address, written as RFC 5952 says (lowercase, zeros compressed).
public struct IPv6Address: Hashable, Sendable, Comparable, AddressText {
    public let bytes: [UInt8]

    /// Accepts any RFC 4291 text form, with an IPv4 tail (`::ffff:192.0.2.1`); no zone (`%eth0`).
    public init?(_ text: String) {
        guard text.utf8.count <= 45, !text.isEmpty else { return nil }
        let halves = text.split(separator: "::", omittingEmptySubsequences: false).map(String.init)
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String, last: Bool) -> [UInt16]? {
            guard !part.isEmpty else { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if last, index == pieces.count - 1, piece.contains(".") {
                    guard let ipv4 = IPv4Address(String(piece)) else { return nil }
                    result += [UInt16(ipv4.octets[0]) << 8 | UInt16(ipv4.octets[1]), UInt16(ipv4.octets[2]) << 8 | UInt16(ipv4.octets[3])]
                    continue
                }
                guard (1...4).contains(piece.count), piece.allSatisfy(\.isHexDigit), let group = UInt16(piece, radix: 16) else { return nil }
                result.append(group)
            }
            return result
        }
        guard let head = groups(halves[0], last: halves.count == 1) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1], last: true), head.count + tail.count <= 7 else { return nil }
            all += [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        bytes = all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// fe80::/10: never forwarded, so never part of what a device is let through with.
    public var isLinkLocal: Bool { bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 }

    /// Global unicast (2000::/3) or unique-local (fc00::/7): what a guest's device is let through with.
    public var isGlobalOrUniqueLocal: Bool { bytes[0] & 0xe0 == 0x20 || bytes[0] & 0xfe == 0xfc }

    public var description: String {
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        if groups[0..<5].allSatisfy({ $0 == 0 }) && groups[5] == 0xffff {  // IPv4-mapped
            return "::ffff:\(bytes[12]).\(bytes[13]).\(bytes[14]).\(bytes[15])"
        }
        // The longest run of two or more zero groups (the first of equals) becomes "::".
        var best: Range<Int>?
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else { index += 1; continue }
            var end = index
            while end < 8 && groups[end] == 0 { end += 1 }
            if end - index >= 2, end - index > (best?.count ?? 0) { best = index..<end }
            index = end
        }
        let hex = { (group: UInt16) in String(group, radix: 16) }
        guard let best else { return groups.map(hex).joined(separator: ":") }
        return groups[..<best.lowerBound].map(hex).joined(separator: ":") + "::" + groups[best.upperBound...].map(hex).joined(separator: ":")
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}

/// An address of either family: what a device uses on the LAN.
public enum IPAddress: Hashable, Sendable, Comparable, AddressText {
    case v4(IPv4Address)
    case v6(IPv6Address)

    public init?(_ text: String) {
        if let ipv4 = IPv4Address(text) {
            self = .v4(ipv4)
        } else if let ipv6 = IPv6Address(text) {
            self = .v6(ipv6)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .v4(let address): address.description
        case .v6(let address): address.description
        }
    }

    /// "ipv4" or "ipv6", as the database and the API name the family.
    public var family: String {
        switch self {
        case .v4: "ipv4"
        case .v6: "ipv6"
        }
    }

    public var bytes: [UInt8] {
        switch self {
        case .v4(let address): address.octets
        case .v6(let address): address.bytes
        }
    }

    /// An IPv4-mapped IPv6 address (`::ffff:192.0.2.10`, what a dual-stack socket reports
    /// for an IPv4 peer) as the IPv4 address it stands for; any other address as it is.
    public var unmapped: IPAddress {
        guard case .v6(let address) = self, address.bytes[0..<10].allSatisfy({ $0 == 0 }), address.bytes[10] == 0xff, address.bytes[11] == 0xff,
              let ipv4 = IPv4Address(octets: Array(address.bytes[12...])) else { return self }
        return .v4(ipv4)
    }

    public var ipv4: IPv4Address? { if case .v4(let address) = self { address } else { nil } }
    public var ipv6: IPv6Address? { if case .v6(let address) = self { address } else { nil } }

    /// IPv4 before IPv6, then by value.
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        lhs.bytes.count != rhs.bytes.count ? lhs.bytes.count < rhs.bytes.count : lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

/// An address with a prefix length: `203.0.113.0/24`, `2001:db8:2::/64`, or one
/// address (`/32`, `/128`).
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    /// `text` is an address or `address/length`; host bits must be zero, so a typo
    /// (`192.0.2.5/24` for `192.0.2.0/24`) is caught rather than widened.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else { return nil }
        let bits = address.bytes.count * 8
        var length = bits
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let parsed = Int(parts[1]), (0...bits).contains(parsed) else { return nil }
            length = parsed
        }
        self.address = address
        self.prefixLength = length
        guard start == address.bytes else { return nil }
    }

    public var description: String { prefixLength == address.bytes.count * 8 ? address.description : "\(address)/\(prefixLength)" }

    /// The first address, as key bytes.
    public var start: [UInt8] {
        address.bytes.enumerated().map { index, byte in
            let kept = min(8, max(0, prefixLength - index * 8))
            return byte & UInt8(truncatingIfNeeded: 0xff << (8 - kept))
        }
    }

    /// The first address after the network, as key bytes; nil when the network reaches the last address.
    public var end: [UInt8]? {
        var bytes = address.bytes.enumerated().map { index, byte in
            let kept = min(8, max(0, prefixLength - index * 8))
            return byte | ~UInt8(truncatingIfNeeded: 0xff << (8 - kept))
        }
        for index in bytes.indices.reversed() {  // + 1
            if bytes[index] == 0xff { bytes[index] = 0 } else { bytes[index] += 1; return bytes }
        }
        return nil
    }
}
