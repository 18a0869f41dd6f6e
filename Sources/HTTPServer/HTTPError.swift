/// An error a handler throws to answer with a status: the status, a stable
/// machine-readable code, and a sentence for the person who sees it. Each router
/// renders it in its listener's format (an HTML page for guests, JSON for the API).
public struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: Int
    public var code: String
    public var message: String
    /// Headers the answer must carry (`Allow` on a 405, `WWW-Authenticate` on a 401, …).
    public var headers: [String: String]
    /// The request field at fault (`guests[0].email`), for a client to point at.
    public var field: String?

    public init(_ status: Int, code: String, message: String, headers: [String: String] = [:], field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.field = field
    }

    public var description: String { "\(status) \(code): \(message)" }

    public static func badRequest(_ code: String, _ message: String) -> HTTPError { HTTPError(400, code: code, message: message) }
    public static func notFound(_ message: String, code: String = "not_found") -> HTTPError { HTTPError(404, code: code, message: message) }
    public static func unprocessable(_ code: String, _ message: String) -> HTTPError { HTTPError(422, code: code, message: message) }
    /// 422 naming the request field at fault, in the message and in `field`.
    public static func invalidField(_ field: String, _ message: String) -> HTTPError {
        HTTPError(422, code: "invalid_field", message: "\(field): \(message)", field: field)
    }
    public static func serviceUnavailable(_ code: String, _ message: String) -> HTTPError { HTTPError(503, code: code, message: message) }
    public static let internalError = HTTPError(500, code: "internal_error", message: "internal error")

    /// A 500 that names only an id; the details go to the log under the same id.
    public static func internalError(requestID: String) -> HTTPError {
        HTTPError(500, code: "internal_error", message: "internal error (request id \(requestID))", headers: ["X-Request-Id": requestID])
    }

    /// A short random id that ties a 500 answer to its log line.
    public static func newRequestID() -> String {
        String(UInt64.random(in: .min ... .max), radix: 16).leftPadded(to: 16)
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String { String(repeating: "0", count: max(0, length - count)) + self }
}

/// A domain error that knows its HTTP answer (the mapping lives beside the error,
/// not in a switch over strings in each handler).
public protocol HTTPErrorConvertible: Error {
    var httpError: HTTPError { get }
}

extension HTTPError: HTTPErrorConvertible {
    public var httpError: HTTPError { self }
}
