/// Reads a JSON text (RFC 8259) into a `JSONValue`, strictly: one value, nothing after
/// it but whitespace, valid UTF-8, no lone surrogates, no trailing commas, no repeated names, finite
/// numbers, at most 512 levels.
///
/// Every body portald is sent (reservations, PMS webhooks, admin requests) is read into
/// a `JSONValue` and then checked field by field. Foundation's `JSONDecoder` can only
/// learn a value's type by trying each type in turn, each miss a thrown error; on a bulk
/// import that was a tenth of the CPU. This reads each byte once.
public struct JSONReader {
    public struct Failure: Error, CustomStringConvertible {
        /// Byte offset where reading stopped.
        public let offset: Int
        public let reason: String
        public var description: String { "\(reason) at byte \(offset)" }
    }

    public static let maximumDepth = 512

    public static func read(_ bytes: some Collection<UInt8>) throws(Failure) -> JSONValue {
        let bytes = Array(bytes)
        var reader = JSONReader(bytes: bytes)
        // RFC 8259 §8.1 lets a reader ignore a byte order mark; some .NET systems send one.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { reader.offset = 3 }
        reader.skipWhitespace()
        let value = try reader.value(depth: 0)
        reader.skipWhitespace()
        guard reader.offset == bytes.count else { throw reader.failure("unexpected text after the JSON value") }
        return value
    }

    private let bytes: [UInt8]
    private var offset = 0

    private init(bytes: [UInt8]) { self.bytes = bytes }

    private func failure(_ reason: String) -> Failure { Failure(offset: offset, reason: reason) }

    private var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { offset += 1 }
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(Failure) {
        guard current == byte else { throw failure("expected \(what)") }
        offset += 1
    }

    private mutating func value(depth: Int) throws(Failure) -> JSONValue {
        guard let byte = current else { throw failure("unexpected end of text") }
        switch byte {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw failure("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws(Failure) {
        let count = word.utf8CodeUnitCount
        guard offset + count <= bytes.count else { throw failure("unexpected end of text") }
        for index in 0..<count where bytes[offset + index] != word.utf8Start[index] { throw failure("unexpected character") }
        offset += count
    }

    private mutating func object(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw failure("nested deeper than \(Self.maximumDepth) levels") }
        offset += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if current == UInt8(ascii: "}") { offset += 1; return .object(members) }
        while true {
            guard current == UInt8(ascii: "\"") else { throw failure("expected a member name in quotes") }
            let nameOffset = offset
            let name = try string()
            // RFC 8259 leaves a repeated name to the reader; readers differ on which one
            // counts, so a document that repeats one is ambiguous and refused. Names are
            // Swift strings: "é" and "e\u0301" are one name here.
            guard members[name] == nil else {
                offset = nameOffset
                throw failure("the member name \"\(name.prefix(64))\" given twice")
            }
            skipWhitespace()
            try expect(UInt8(ascii: ":"), "':' after a member name")
            skipWhitespace()
            members[name] = try value(depth: depth)
            skipWhitespace()
            if current == UInt8(ascii: ",") { offset += 1; skipWhitespace(); continue }
            try expect(UInt8(ascii: "}"), "',' or '}' in an object")
            return .object(members)
        }
    }

    private mutating func array(depth: Int) throws(Failure) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw failure("nested deeper than \(Self.maximumDepth) levels") }
        offset += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { offset += 1; return .array(elements) }
        while true {
            elements.append(try value(depth: depth))
            skipWhitespace()
            if current == UInt8(ascii: ",") { offset += 1; skipWhitespace(); continue }
            try expect(UInt8(ascii: "]"), "',' or ']' in an array")
            return .array(elements)
        }
    }

    private mutating func number() throws(Failure) -> Double {
        let start = offset
        func digits() -> Int {
            let first = offset
            while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { offset += 1 }
            return offset - first
        }
        if current == UInt8(ascii: "-") { offset += 1 }
        if current == UInt8(ascii: "0") {
            offset += 1
        } else if digits() == 0 {
            throw failure("expected a digit")
        }
        if current == UInt8(ascii: ".") {
            offset += 1
            guard digits() > 0 else { throw failure("expected a digit after '.'") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            offset += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
            guard digits() > 0 else { throw failure("expected a digit in the exponent") }
        }
        // The grammar is checked above; Double's own reading rounds correctly.
        guard let value = Double(String(decoding: bytes[start..<offset], as: UTF8.self)), value.isFinite else {
            offset = start
            throw failure("a number too large to hold")
        }
        return value
    }

    private mutating func string() throws(Failure) -> String {
        offset += 1  // the opening quote
        var start = offset
        var text = ""
        var invalidAt: Int?
        func flush(upTo end: Int) {
            guard end > start else { return }
            if let part = String(validating: bytes[start..<end], as: UTF8.self) { text += part } else { invalidAt = invalidAt ?? start }
        }
        while let byte = current {
            switch byte {
            case UInt8(ascii: "\""):
                flush(upTo: offset)
                if let invalidAt {
                    offset = invalidAt
                    throw failure("text that is not UTF-8 (in the string from here)")
                }
                offset += 1
                return text
            case UInt8(ascii: "\\"):
                flush(upTo: offset)
                offset += 1
                text.unicodeScalars.append(try escape())
                start = offset
            case 0..<0x20:
                throw failure("a control character inside a string (escape it)")
            default:
                offset += 1
            }
        }
        throw failure("a string without its closing quote")
    }

    /// After a backslash: one escaped character, a `\uXXXX` surrogate pair read as one.
    private mutating func escape() throws(Failure) -> Unicode.Scalar {
        guard let byte = current else { throw failure("unexpected end of text") }
        offset += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let unit = try hex4()
            if (0xD800..<0xDC00).contains(unit) {
                guard current == UInt8(ascii: "\\"), offset + 1 < bytes.count, bytes[offset + 1] == UInt8(ascii: "u") else {
                    throw failure("a lone surrogate in \\u escapes")
                }
                offset += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw failure("a lone surrogate in \\u escapes") }
                return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!
            }
            guard let scalar = Unicode.Scalar(unit) else { throw failure("a lone surrogate in \\u escapes") }
            return scalar
        default:
            offset -= 1
            throw failure("an unknown escape")
        }
    }

    private mutating func hex4() throws(Failure) -> UInt32 {
        var unit: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current else { throw failure("unexpected end of text") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("expected four hex digits after \\u")
            }
            unit = unit << 4 | UInt32(digit)
            offset += 1
        }
        return unit
    }
}

extension JSONReader.Failure {
    /// The message for a request body that is not JSON, `shape` being what was expected.
    public func explained(shape: String) -> String { "the body must be \(shape); it is not JSON: \(self)" }
}

extension JSONValue {
    /// `bytes` read as JSON (see `JSONReader`); nil when they are not.
    public init?(json bytes: some Collection<UInt8>) {
        guard let value = try? JSONReader.read(bytes) else { return nil }
        self = value
    }
}
