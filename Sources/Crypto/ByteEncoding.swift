import Foundation

/// Text forms of bytes: hex (signatures) and base64url (tokens in URLs and forms).
extension Array where Element == UInt8 {
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for byte in self { out += [digits[Int(byte >> 4)], digits[Int(byte & 0xf)]] }
        return String(decoding: out, as: UTF8.self)
    }

    /// base64url without padding (RFC 4648 §5): safe in URLs and form fields.
    public var base64URLString: String {
        // By hand rather than Foundation's base64 and three replacements: every new
        // reservation makes a token, and that was a tenth of an import's write.
        var out: [UInt8] = []
        out.reserveCapacity((count * 4 + 2) / 3)
        var index = 0
        while index < count {
            let chunk = Swift.min(3, count - index)
            var group = UInt32(self[index]) << 16
            if chunk > 1 { group |= UInt32(self[index + 1]) << 8 }
            if chunk > 2 { group |= UInt32(self[index + 2]) }
            for position in 0...chunk { out.append(base64URLDigits[Int(group >> (18 - 6 * UInt32(position)) & 0x3F)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    public init?(base64URL text: String) {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        guard let data = Data(base64Encoded: standard) else { return nil }
        self = Array(data)
    }
}

private let base64URLDigits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

extension UInt64 {
    /// Eight bytes, most significant first: a time stamp inside a signed token.
    public var bigEndianBytes: [UInt8] { (0..<8).reversed().map { UInt8(truncatingIfNeeded: self >> ($0 * 8)) } }

    /// The value of the first eight bytes, most significant first.
    public init(bigEndianBytes bytes: some Collection<UInt8>) { self = bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) } }
}
