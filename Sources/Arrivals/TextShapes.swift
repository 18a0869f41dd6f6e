/// The shapes of short identifiers and contact fields, checked byte by byte: Swift's
/// regex literals are parsed anew at every use, which was a fifth of a reservation
/// upsert's CPU time.
enum TextShapes {
    static func isLetter(_ b: UInt8) -> Bool { (65...90).contains(b) || (97...122).contains(b) }
    static func isDigit(_ b: UInt8) -> Bool { (48...57).contains(b) }

    /// A PMS id: a letter or digit, then up to 63 letters, digits, `.`, `_`, `:` or `-`.
    static func isReservationID(_ text: Substring) -> Bool {
        let bytes = text.utf8
        guard let first = bytes.first, (1...64).contains(bytes.count), isLetter(first) || isDigit(first) else { return false }
        return bytes.allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "-") }
    }

    /// A BCP 47 tag as PMSs send them: 2–3 letters, then `-` subtags of 2–8 letters or digits.
    static func isLanguageTag(_ text: String) -> Bool {
        let parts = text.utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard let primary = parts.first, (2...3).contains(primary.count), primary.allSatisfy(isLetter) else { return false }
        return parts.dropFirst().allSatisfy { (2...8).contains($0.count) && $0.allSatisfy { isLetter($0) || isDigit($0) } }
    }

    /// `local@domain.tld`: one `@`, no white space, a dot in the domain with text on both sides.
    static func isEmail(_ text: String) -> Bool {
        guard text.utf8.count <= 254, !text.unicodeScalars.contains(where: { $0.properties.isWhitespace }) else { return false }
        let halves = text.split(separator: "@", omittingEmptySubsequences: false)
        guard halves.count == 2, !halves[0].isEmpty else { return false }
        let domain = halves[1].split(separator: ".", omittingEmptySubsequences: false)
        return domain.count >= 2 && !domain[0].isEmpty && !domain.last!.isEmpty
    }

    /// An optional `+`, a digit, then 2–31 digits, spaces, `(`, `)`, `/`, `.` or `-`.
    static func isPhone(_ text: String) -> Bool {
        var bytes = Substring(text).utf8[...]
        if bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        guard let first = bytes.first, isDigit(first), (3...32).contains(bytes.count) else { return false }
        return bytes.allSatisfy { isDigit($0) || " ()/.-".utf8.contains($0) }
    }
}
