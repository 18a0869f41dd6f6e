/// A link-layer (Ethernet) address, written `aa:bb:cc:dd:ee:ff`.
///
/// Phones randomize their MAC per network, so a MAC identifies a device only on
/// this SSID and only for a while; portald pairs it with the IPv4 address.
public struct MACAddress: Hashable, Sendable, Comparable, AddressText {
    public let bytes: [UInt8]

    /// Accepts `:` or `-` separated hex, any case.
    public init?(_ text: String) {
        let parts = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 6 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            // Digits only: UInt8("+a", radix: 16) would take a sign.
            guard part.count == 2, part.allSatisfy(\.isHexDigit), let byte = UInt8(part, radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.bytes = bytes
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count == 6 else { return nil }
        self.bytes = bytes
    }

    public var description: String {
        bytes.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined(separator: ":")
    }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}

/// An IPv4 address in dotted-quad form.
public struct IPv4Address: Hashable, Sendable, Comparable, AddressText {
    public let octets: [UInt8]

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            // No leading zeros: "010" is octal to some parsers and decimal to others.
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),  // no sign: "+1" is not an octet
                  part == "0" || !part.hasPrefix("0"), let octet = UInt8(part) else { return nil }
            octets.append(octet)
        }
        self.octets = octets
    }

    public init?(octets: [UInt8]) {
        guard octets.count == 4 else { return nil }
        self.octets = octets
    }

    public var description: String { octets.map(String.init).joined(separator: ".") }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.octets.lexicographicallyPrecedes(rhs.octets) }
}

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
