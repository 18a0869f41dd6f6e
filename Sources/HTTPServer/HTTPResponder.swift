import Foundation

/// What a listener asks of the application for each complete request.
public protocol HTTPResponder: Sendable {
    /// The answer now, or work that may block (SQLite, netlink), which the server
    /// runs on its worker pool while libmicrohttpd keeps serving other connections.
    func respond(to request: HTTPRequest) -> HTTPReply

    /// The answer to a request the server refused before routing it (413 …).
    func respond(to error: HTTPError, for request: HTTPRequest) -> HTTPResponse

    /// A first look at a request before it is parsed: its method, target and Host
    /// header only. A response here is sent at once, and the request is never built
    /// (no header list, no client address). For a listener's hot path, such as the
    /// captive redirect; nil, the default, goes on to `respond(to:)`.
    func respondEarly(method: HTTPMethod, target: String, host: String?) -> HTTPResponse?
}

/// When an answer is ready.
public enum HTTPReply: Sendable {
    /// Answered on the server's own thread: must not block.
    case now(HTTPResponse)
    /// Runs on the worker pool; the connection is suspended meanwhile.
    case later(@Sendable () -> HTTPResponse)
}

extension HTTPResponder {
    public func respond(to error: HTTPError, for request: HTTPRequest) -> HTTPResponse {
        .plainJSON(error)
    }

    public func respondEarly(method: HTTPMethod, target: String, host: String?) -> HTTPResponse? { nil }
}

extension HTTPResponse {
    /// `{"error": {"code", "message", "field"?}}` with the error's status and headers.
    public static func plainJSON(_ error: HTTPError) -> HTTPResponse {
        func quoted(_ text: String) -> String {
            var out = "\""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
                default: out.unicodeScalars.append(scalar)
                }
            }
            return out + "\""
        }
        let field = error.field.map { ",\"field\":\(quoted($0))" } ?? ""
        let body = "{\"error\":{\"code\":\(quoted(error.code)),\"message\":\(quoted(error.message))\(field)}}"
        var response = HTTPResponse.json(bytes: Array(body.utf8), status: error.status)
        response.addHeaders(of: error)
        return response
    }

    /// Adds the headers the error must carry (`Allow`, `WWW-Authenticate`, …), in a stable order.
    public mutating func addHeaders(of error: HTTPError) {
        for (name, value) in error.headers.sorted(by: { $0.key < $1.key }) { headers.add(name, value) }
    }
}
