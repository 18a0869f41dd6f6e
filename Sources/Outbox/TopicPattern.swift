/// Event topics an endpoint subscribes to: an exact name (`arrival.arrived`), a
/// prefix wildcard (`wifi.*` matches `wifi.session.started`), or `*` for all.
public enum TopicPattern {
    public static func isValid(_ pattern: String) -> Bool {
        if pattern == "*" { return true }
        let body = pattern.hasSuffix(".*") ? String(pattern.dropLast(2)) : pattern
        return !body.isEmpty && body.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
            !part.isEmpty && part.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
        }
    }

    public static func matches(_ pattern: String, _ event: String) -> Bool {
        if pattern == "*" || pattern == event { return true }
        guard pattern.hasSuffix(".*") else { return false }
        return event.hasPrefix(pattern.dropLast(1))  // keeps the dot: "wifi." never matches "wifizz"
    }

    public static func matches(any patterns: [String], _ event: String) -> Bool {
        patterns.contains { matches($0, event) }
    }
}
