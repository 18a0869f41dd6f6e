import Foundation
import Lab
import Testing
@testable import Outbox

/// `JSONReader` and `JSONValue.bytes` against Foundation's own JSON (an independent
/// implementation): what one writes the other reads back the same, both write the same
/// bytes, and on damaged text both readers agree on what is JSON.
@Suite struct JSONTests {
    /// Foundation's reading, through `JSONValue`'s Decodable conformance.
    static func foundation(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    /// Where Foundation's reading departs from RFC 8259 or from ours: it accepts a
    /// trailing comma (`[1,]`) and a repeated member name (the first counts), reads a text
    /// with NUL bytes as UTF-16 or UTF-32 (`\u{0}0`, which we refuse: bodies are UTF-8), and refuses an exponent after a zero (`0e5`) and a
    /// number too small for a Double (`1e-400`, which we read as 0, as strtod does).
    static func foundationLeniency(_ text: [UInt8], ours: JSONValue?, theirs: JSONValue?) -> Bool {
        var spelled = String(decoding: text, as: UTF8.self)
        if ours == nil, let theirs {
            do { _ = try JSONReader.read(text) } catch { if error.reason.hasSuffix("given twice") { return true } }
            if text.contains(0), (try? JSONReader.read(text.filter { $0 != 0 })) == theirs { return true }
            var withoutTrailingCommas: [UInt8] = []
            for byte in text {
                if byte == UInt8(ascii: "]") || byte == UInt8(ascii: "}"),
                   let comma = withoutTrailingCommas.lastIndex(where: { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }),
                   withoutTrailingCommas[comma] == UInt8(ascii: ",") {
                    withoutTrailingCommas.remove(at: comma)
                }
                withoutTrailingCommas.append(byte)
            }
            spelled = String(decoding: withoutTrailingCommas, as: UTF8.self)
            return (try? JSONReader.read(Array(spelled.utf8))) == theirs
        }
        if theirs == nil, let ours {
            spelled = spelled.replacingOccurrences(of: "0e", with: "0.0e").replacingOccurrences(of: "0E", with: "0.0E")
            while let range = spelled.range(of: #"[0-9.]+[eE]-[0-9]{3,}"#, options: .regularExpression), Double(spelled[range]) == 0 {
                spelled.replaceSubrange(range, with: "0")
            }
            return foundation(Array(spelled.utf8)) == ours
        }
        return false
    }

    /// Random unless JSON_TEST_SEED replays a failure's printed seed.
    static func seed() -> UInt64 {
        ProcessInfo.processInfo.environment["JSON_TEST_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0 ... .max)
    }

    /// `text` with some non-ASCII characters written as `\uXXXX` escapes (surrogate pairs
    /// beyond the BMP, hex digits in either case): Foundation writes them as UTF-8.
    static func escapingSome(_ text: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var out = ""
        for scalar in String(decoding: text, as: UTF8.self).unicodeScalars {
            guard scalar.value > 0x7F, Bool.random(using: &random) else { out.unicodeScalars.append(scalar); continue }
            for unit in String(scalar).utf16 {
                let hex = String(unit, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + (Bool.random(using: &random) ? hex.uppercased() : hex)
            }
        }
        return Array(out.utf8)
    }

    static func randomString(_ random: inout SplitMix64) -> String {
        let pool: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{1F}", "\u{7F}", "é", "ß",
                                      "\u{2028}", "\u{FEFF}", "€", "中", "😀", "\u{10FFFF}", "\u{E000}",
                                      "\u{301}", "\u{30A}"]  // combining marks: names not in NFC sort by their bytes
        var text = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...8, using: &random) { text.append(pool.randomElement(using: &random)!) }
        return String(text)
    }

    static func randomValue(_ random: inout SplitMix64, depth: Int = 0) -> JSONValue {
        switch Int.random(in: 0...(depth > 3 ? 3 : 5), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2:
            let numbers: [Double] = [0, 1, -1, 2_000, 9_007_199_254_740_991, -0.5, 3.25, 1e-7, 6.02e23, 1.7976931348623157e308]
            return .number(Bool.random(using: &random) ? numbers.randomElement(using: &random)! : Double(Int32.random(in: .min ... .max, using: &random)))
        case 3: return .string(randomString(&random))
        case 4: return .array((0..<Int.random(in: 0...4, using: &random)).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &random) { members[randomString(&random)] = randomValue(&random, depth: depth + 1) }
            return .object(members)
        }
    }

    @Test("what Foundation's JSONEncoder writes reads back as the same value")
    func roundTrip() throws {
        let seed = Self.seed()
        var random = SplitMix64(seed: seed)
        for _ in 0..<2_000 {
            let value = Self.randomValue(&random)
            let text = Array(try JSONEncoder().encode(value))
            #expect(try JSONReader.read(text) == value, "seed \(seed): \(String(decoding: text, as: UTF8.self))")
            let escaped = Self.escapingSome(text, &random)
            #expect(try JSONReader.read(escaped) == value, "seed \(seed): \(String(decoding: escaped, as: UTF8.self))")
        }
    }

    @Test("JSONValue.bytes writes what Foundation's JSONEncoder writes (sorted keys, slashes as they are)")
    func writerMatchesFoundation() throws {
        let seed = Self.seed()
        var random = SplitMix64(seed: seed)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for _ in 0..<2_000 {
            let value = Self.randomValue(&random)
            let expected = Array(try encoder.encode(value))
            #expect(value.bytes == expected, "seed \(seed): \(String(decoding: expected, as: UTF8.self))")
        }
        let numbers: [(Double, String)] = [(9_007_199_254_740_992, "9007199254740992"), (9_007_199_254_740_994, "9.007199254740994e+15"),
                                           (9e15, "9000000000000000"), (-0.0, "0"), (1e-7, "1e-07"), (-2.5, "-2.5"), (.nan, "null"), (-.infinity, "null")]
        for (number, text) in numbers { #expect(String(decoding: JSONValue.number(number).bytes, as: UTF8.self) == text) }
        let unnormalized: JSONValue = ["b": 1, "a\u{30A}": 2]  // "å" spelt a + ring: before "b" by bytes, after it in NFC
        #expect(unnormalized.bytes == Array("{\"a\u{30A}\":2,\"b\":1}".utf8), "byte order, not canonical order")
    }

    @Test("damaged JSON: accepted and read the same as Foundation reads it, or refused by both")
    func agreesWithFoundationOnDamagedText() throws {
        let seed = Self.seed()
        var random = SplitMix64(seed: seed)
        let replacements = Array(#"{}[]",:\/ -+.eE0159tfnul"#.utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xFF]
        var accepted = 0
        for _ in 0..<10_000 {
            var text = Array(try JSONEncoder().encode(Self.randomValue(&random)))
            for _ in 0..<Int.random(in: 1...2, using: &random) where !text.isEmpty {
                let index = Int.random(in: 0..<text.count, using: &random)
                switch Int.random(in: 0...3, using: &random) {
                case 0: text[index] = replacements.randomElement(using: &random)!
                case 1: text.remove(at: index)
                case 2: text.removeSubrange(index..<min(text.count, index + Int.random(in: 2...6, using: &random)))
                default: text.insert(replacements.randomElement(using: &random)!, at: index)
                }
            }
            let ours = try? JSONReader.read(text), theirs = Self.foundation(text)
            #expect(ours == theirs || Self.foundationLeniency(text, ours: ours, theirs: theirs),
                    "seed \(seed): \(String(decoding: text, as: UTF8.self).debugDescription) \(text) ours \(String(describing: ours)) theirs \(String(describing: theirs))")
            if ours != nil { accepted += 1 }
        }
        #expect(accepted > 100, "the damage should leave some texts valid, or this compares only refusals")
    }

    @Test("escapes, surrogate pairs and numbers", arguments: [
        (#""\u00e9\ud83d\ude00\n\"\\\/\b\f\r\t""#, JSONValue.string("é😀\n\"\\/\u{08}\u{0C}\r\t")),
        ("  -0.5e+2 ", .number(-50)),
        ("[1E2,0,-0,12.0]", .array([.number(100), .number(0), .number(0), .number(12)])),
        ("\u{20}\t\r\n[]\n", .array([])),
        ("\u{FEFF}{}", .object([:])),
    ])
    func reads(text: String, value: JSONValue) throws {
        #expect(try JSONReader.read(Array(text.utf8)) == value)
    }

    @Test("refusals name the reason and the byte", arguments: [
        ("", "unexpected end of text at byte 0"),
        ("{\"a\":1,}", "expected a member name in quotes at byte 7"),
        ("[1 2]", "expected ',' or ']' in an array at byte 3"),
        ("01", "unexpected text after the JSON value at byte 1"),
        ("1.", "expected a digit after '.' at byte 2"),
        ("1e400", "a number too large to hold at byte 0"),
        ("\"a\u{01}\"", "a control character inside a string (escape it) at byte 2"),
        (#""\ud800x""#, "a lone surrogate in \\u escapes at byte 7"),
        (#""\x""#, "an unknown escape at byte 2"),
        ("\"abc", "a string without its closing quote at byte 4"),
        ("tru", "unexpected end of text at byte 0"),
        ("nul!", "unexpected character at byte 0"),
        ("{} {}", "unexpected text after the JSON value at byte 3"),
        ("[1,]", "unexpected character at byte 3"),
        (#"{"a":1, "b":{}, "a":2}"#, #"the member name "a" given twice at byte 16"#),
    ])
    func refuses(text: String, reason: String) {
        #expect(throws: JSONReader.Failure.self) { try JSONReader.read(Array(text.utf8)) }
        do { _ = try JSONReader.read(Array(text.utf8)) } catch { #expect(error.description == reason) }
    }

    @Test("bytes that are not UTF-8 are refused")
    func invalidUTF8() {
        #expect(throws: JSONReader.Failure.self) { try JSONReader.read([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.read([0x22, 0xED, 0xA0, 0x80, 0x22]) }  // an encoded surrogate
    }

    @Test("512 levels are read; deeper, or a megabyte of '[', is refused without exhausting the stack")
    func depth() throws {
        let deepest = String(repeating: "[", count: JSONReader.maximumDepth) + String(repeating: "]", count: JSONReader.maximumDepth)
        _ = try JSONReader.read(Array(deepest.utf8))
        #expect(throws: JSONReader.Failure.self) { try JSONReader.read(Array(("[" + deepest + "]").utf8)) }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.read([UInt8](repeating: UInt8(ascii: "["), count: 1 << 20)) }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.read(Array(String(repeating: "{\"a\":", count: 100_000).utf8)) }
    }
}
