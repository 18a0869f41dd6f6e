/// Header fields, looked up without regard to case.
public struct HTTPHeaders: Sendable, Sequence {
    // Unlabelled, like the initializer's argument: taken as is, no copy per response.
    private var fields: [(String, String)] = []

    public init(_ fields: [(String, String)] = []) {
        self.fields = fields
    }

    public subscript(name: String) -> String? {
        // Header names are ASCII; Foundation's locale-aware comparison is slow on the hot path.
        fields.first { ASCII.equalIgnoringCase($0.0.utf8, name.utf8) }?.1
    }

    public mutating func add(_ name: String, _ value: String) { fields.append((name, value)) }

    public func makeIterator() -> IndexingIterator<[(String, String)]> { fields.makeIterator() }
}

/// Byte-level ASCII helpers for the hot path, where Foundation's Unicode-aware
/// string functions cost more than the rest of a request.
public enum ASCII {
    /// Whether `a` and `b` hold the same bytes, ASCII letters compared without case.
    @inlinable
    public static func equalIgnoringCase<A: Collection<UInt8>, B: Collection<UInt8>>(_ a: A, _ b: B) -> Bool {
        guard a.count == b.count else { return false }
        var j = b.startIndex
        for x in a {
            let y = b[j]
            if x != y {
                let lower = x | 0x20
                guard lower == y | 0x20, lower >= UInt8(ascii: "a"), lower <= UInt8(ascii: "z") else { return false }
            }
            j = b.index(after: j)
        }
        return true
    }
}
