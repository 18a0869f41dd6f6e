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

    /// Reads base64url without padding; nil for any other character or an impossible length.
    /// By hand too: every form a guest sends carries a token, and Foundation's string
    /// replacements and base64 were most of checking one (80 µs of a login).
    public init?(base64URL text: String) {
        let count = text.utf8.count
        guard count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(count * 3 / 4)
        var group: UInt32 = 0
        var filled = 0
        for byte in text.utf8 {
            let value = base64URLValues[Int(byte)]
            guard value >= 0 else { return nil }
            group = group << 6 | UInt32(value)
            filled += 1
            if filled == 4 {
                out.append(UInt8(truncatingIfNeeded: group >> 16))
                out.append(UInt8(truncatingIfNeeded: group >> 8))
                out.append(UInt8(truncatingIfNeeded: group))
                group = 0
                filled = 0
            }
        }
        switch filled {
        case 2: out.append(UInt8(truncatingIfNeeded: group >> 4))
        case 3:
            out.append(UInt8(truncatingIfNeeded: group >> 10))
            out.append(UInt8(truncatingIfNeeded: group >> 2))
        default: break
        }
        self = out
    }
}

private let base64URLDigits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
/// Each byte's value as a base64url digit, or -1.
private let base64URLValues: [Int8] = {
    var values = [Int8](repeating: -1, count: 256)
    for (value, digit) in base64URLDigits.enumerated() { values[Int(digit)] = Int8(value) }
    return values
}()

extension UInt64 {
    /// Eight bytes, most significant first: a time stamp inside a signed token.
    public var bigEndianBytes: [UInt8] { (0..<8).reversed().map { UInt8(truncatingIfNeeded: self >> ($0 * 8)) } }

    /// The value of the first eight bytes, most significant first.
    public init(bigEndianBytes bytes: some Collection<UInt8>) { self = bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) } }
}
