import Foundation

/// A request as the handlers see it: parsed, body complete, no C types.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The percent-decoded path, without the query.
    public var path: String
    /// The request target exactly as sent (path and query, still encoded).
    public var target: String
    /// The query string (after `?`), still encoded; parsed on use, since the
    /// hot path (the captive redirect) never needs it.
    public var rawQuery: Substring
    public var query: FormData { FormData(query: String(rawQuery)) }
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The peer's IP address as text (IPv4-mapped IPv6 is shown as IPv4).
    public var clientAddress: String
    /// Path parameters filled in by the router (`/arrive/:token` → `token`).
    public var parameters: [String: String] = [:]

    public init(method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], clientAddress: String = "127.0.0.1") {
        self.method = method
        self.target = target
        let questionMark = target.utf8.firstIndex(of: UInt8(ascii: "?"))
        let pathPart = questionMark.map { target[..<$0] } ?? target[...]
        self.path = pathPart.utf8.contains(UInt8(ascii: "%")) ? (pathPart.removingPercentEncoding ?? String(pathPart)) : String(pathPart)
        self.rawQuery = questionMark.map { target[target.index(after: $0)...] } ?? ""
        self.headers = headers
        self.body = body
        self.clientAddress = clientAddress
    }

    /// The body as a form, when it was sent as `application/x-www-form-urlencoded`.
    public var form: FormData? {
        guard let type = headers["content-type"]?.lowercased(), type.hasPrefix("application/x-www-form-urlencoded") else { return nil }
        return FormData(query: String(decoding: body, as: UTF8.self))
    }
}

/// Header fields, looked up without regard to case.
public struct HTTPHeaders: Sendable, Sequence {
    private var fields: [(name: String, value: String)] = []

    public init(_ fields: [(String, String)] = []) {
        self.fields = fields.map { ($0.0, $0.1) }
    }

    public subscript(name: String) -> String? {
        fields.first { Self.equalIgnoringASCIICase($0.name, name) }?.value
    }

    /// Header names are ASCII; Foundation's locale-aware comparison is slow on the hot path.
    static func equalIgnoringASCIICase(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        return zip(a.utf8, b.utf8).allSatisfy { x, y in x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= 0x61 && (x | 0x20) <= 0x7a) }
    }

    public mutating func add(_ name: String, _ value: String) { fields.append((name, value)) }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func html(_ html: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("X-Frame-Options", "DENY"),
            ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'"),
            ("Referrer-Policy", "no-referrer"),
        ]), body: Array(html.utf8))
    }

    public static func json<T: Encodable>(_ value: T, status: Int = 200, contentType: String = "application/json") -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", contentType), ("Cache-Control", "no-store")]),
                     body: Array(JSON.encode(value)))
    }

    public static func text(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "text/plain; charset=utf-8")]), body: Array(text.utf8))
    }

    /// A redirect; the short body is for clients that show it.
    public static func redirect(to location: String, status: Int = 302) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([
            ("Location", location), ("Cache-Control", "no-store"), ("Content-Type", "text/html; charset=utf-8"),
        ]), body: Array("<a href=\"\(HTML.escape(location))\">Continue</a>\n".utf8))
    }
}

/// The JSON encoding used everywhere portald speaks JSON: RFC 3339 times, sorted keys.
public enum JSON {
    public static func encode<T: Encodable>(_ value: T) -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data("{}".utf8)
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = RFC3339.date(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an RFC 3339 time: \(text)"))
            }
            return date
        }
        return decoder
    }
}

public enum RFC3339 {
    public static func string(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt))
    }

    public static func date(_ text: String) -> Date? {
        (try? Date.ISO8601FormatStyle(includingFractionalSeconds: false).parse(text))
            ?? (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
    }
}

public enum HTML {
    public static func escape(_ text: String) -> String {
        let needsEscaping = text.utf8.contains { byte in
            byte == UInt8(ascii: "&") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'")
        }
        guard needsEscaping else { return text }
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
