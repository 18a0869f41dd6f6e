import Foundation

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

    /// A JSON body already encoded (the application chooses its JSON conventions).
    public static func json(bytes: [UInt8], status: Int = 200, contentType: String = "application/json") -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", contentType), ("Cache-Control", "no-store")]), body: bytes)
    }

    public static func text(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", "text/plain; charset=utf-8")]), body: Array(text.utf8))
    }

    /// A redirect. The short body, for clients that show it, is a link to the location
    /// with the location as its text: no words, so no language to choose.
    /// Built as bytes, since the captive redirect answers every request of a captured guest.
    public static func redirect(to location: String, status: Int = 302) -> HTTPResponse {
        let escaped = HTML.escape(location).utf8
        var body: [UInt8] = []
        body.reserveCapacity(escaped.count * 2 + 20)
        body += #"<a href=""#.utf8
        body += escaped
        body += #"">"#.utf8
        body += escaped
        body += "</a>\n".utf8
        return HTTPResponse(status: status, headers: HTTPHeaders([
            ("Location", location), ("Cache-Control", "no-store"), ("Content-Type", "text/html; charset=utf-8"),
        ]), body: body)
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
