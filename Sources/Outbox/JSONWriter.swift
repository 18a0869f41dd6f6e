/// A value that is written as JSON through `JSONValue` rather than Foundation's
/// `JSONEncoder`: the admin API's hot answers (a reservation on every upsert of an
/// import) and the columns stored with it. `JSON.encode` takes this path by itself,
/// and the type's `Encodable` conformance should encode `json` too, so there is one
/// definition of its fields.
public protocol JSONRepresentable {
    var json: JSONValue { get }
}

extension Array: JSONRepresentable where Element: JSONRepresentable {
    public var json: JSONValue { .array(map(\.json)) }
}

extension JSONValue: JSONRepresentable {
    public var json: JSONValue { self }

    /// 2^53: up to it every integer is a Double, and is written as an integer.
    public static let exactIntegers: Double = 9_007_199_254_740_992

    /// `value` as the integer it is written as (integral, at most 2^53), else nil: the one
    /// rule for this writer and for `JSONValue`'s `Encodable` conformance.
    static func writtenAsInteger(_ value: Double) -> Int64? {
        value.rounded() == value && abs(value) <= exactIntegers ? Int64(value) : nil
    }

    /// The JSON text, as `JSON.encode` writes it: keys sorted, `/` not escaped, an
    /// integral number below 2^53 without a fraction.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        return out
    }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .null: out += "null".utf8
        case .bool(let value): out += (value ? "true" : "false").utf8
        case .number(let value):
            // JSON has no NaN or infinity (JSONEncoder refuses them): null, as JavaScript writes them.
            if !value.isFinite { out += "null".utf8 }
            else if let integer = Self.writtenAsInteger(value) { out += String(integer).utf8 }
            else { out += "\(value)".utf8 }
        case .string(let value): Self.write(string: value, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            // By UTF-8 bytes, as JSONEncoder's .sortedKeys does (String's < would compare canonical forms).
            for (index, member) in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.write(string: member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private static func write(string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case 0x0A: out += #"\n"#.utf8
            case 0x0D: out += #"\r"#.utf8
            case 0x09: out += #"\t"#.utf8
            case 0x08: out += #"\b"#.utf8
            case 0x0C: out += #"\f"#.utf8
            case 0..<0x20: out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
