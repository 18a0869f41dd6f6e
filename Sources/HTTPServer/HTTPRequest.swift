import Foundation

/// A request as the handlers see it: parsed, body complete, no C types.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
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
    /// The path as sent, still percent-encoded: the router splits it before decoding,
    /// so an encoded `/` stays inside its segment.
    public var rawPath: Substring

    public init(method: HTTPMethod, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [], clientAddress: String = "127.0.0.1") {
        self.method = method
        self.target = target
        let questionMark = target.utf8.firstIndex(of: UInt8(ascii: "?"))
        let pathPart = questionMark.map { target[..<$0] } ?? target[...]
        self.rawPath = pathPart
        self.path = pathPart.utf8.contains(UInt8(ascii: "%")) ? (pathPart.removingPercentEncoding ?? String(pathPart)) : String(pathPart)
        self.rawQuery = questionMark.map { target[target.index(after: $0)...] } ?? ""
        self.headers = headers
        self.body = body
        self.clientAddress = clientAddress
    }

    /// The path's segments, each percent-decoded (`/a%2Fb/c` → `["a/b", "c"]`).
    public var pathSegments: [String] {
        rawPath.split(separator: "/").map { segment in
            segment.utf8.contains(UInt8(ascii: "%")) ? (segment.removingPercentEncoding ?? String(segment)) : String(segment)
        }
    }

    /// The body as a form, when it was sent as `application/x-www-form-urlencoded`.
    public var form: FormData? {
        guard let type = headers["content-type"]?.lowercased(), type.hasPrefix("application/x-www-form-urlencoded") else { return nil }
        return FormData(query: String(decoding: body, as: UTF8.self))
    }
}

/// A request method. Any token is kept (an unknown method is answered 405, not dropped).
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { rawValue = value }
    public var description: String { rawValue }

    public static let get: HTTPMethod = "GET"
    public static let head: HTTPMethod = "HEAD"
    public static let post: HTTPMethod = "POST"
    public static let put: HTTPMethod = "PUT"
    public static let patch: HTTPMethod = "PATCH"
    public static let delete: HTTPMethod = "DELETE"
}
