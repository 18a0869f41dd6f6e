/// `application/x-www-form-urlencoded` data, as in query strings and form bodies.
///
/// `+` is a space, `%XX` a byte; invalid escapes are kept literally rather than
/// rejected, as browsers do. Repeated names keep every value, in order.
public struct FormData: Sendable, Equatable {
    public private(set) var fields: [(name: String, value: String)]

    public init(query: String) {
        fields = query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (Self.decode(parts[0]), parts.count > 1 ? Self.decode(parts[1]) : "")
        }
    }

    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { ($0.0, $0.1) }
    }

    public subscript(name: String) -> String? { fields.first { $0.name == name }?.value }

    public func all(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }

    public var encoded: String {
        fields.map { Self.encode($0.name) + "=" + Self.encode($0.value) }.joined(separator: "&")
    }

    public static func == (lhs: FormData, rhs: FormData) -> Bool {
        lhs.fields.map(\.name) == rhs.fields.map(\.name) && lhs.fields.map(\.value) == rhs.fields.map(\.value)
    }

    static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), iterator.count >= 2,
                      let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters.
    public static func encode(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3)
        appendEncoded(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Percent-encodes `text` onto `out`: what `encode` does, without a String in between.
    /// Not generic on purpose: a generic one is not specialized across modules, and
    /// iterating through protocol witnesses cost the captive redirect 8 % of its time.
    /// The bytes are written into room made for the worst case (3 per byte), not
    /// appended one by one.
    public static func appendEncoded(_ text: String, to out: inout [UInt8]) {
        var index = out.count
        out.append(contentsOf: repeatElement(0, count: text.utf8.count * 3))
        for byte in text.utf8 {
            if isUnreserved(byte) {
                out[index] = byte
                index += 1
            } else {
                out[index] = UInt8(ascii: "%")
                out[index + 1] = hexDigits[Int(byte >> 4)]
                out[index + 2] = hexDigits[Int(byte & 0xf)]
                index += 3
            }
        }
        out.removeLast(out.count - index)
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    @inline(__always)
    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }
}
