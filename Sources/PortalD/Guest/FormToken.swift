import Crypto
import Foundation
import HTTPServer

/// The anti-CSRF token of the login forms, kept in the form itself: the iOS
/// captive sheet keeps no cookies between loads, so nothing can live in one.
///
/// A token is `issued-at || HMAC(key, purpose|client|issued-at)` (truncated to
/// 128 bits), base64url. It is bound to the client's address and expires.
struct FormToken: Sendable {
    let key: [UInt8]
    var lifetime: TimeInterval = 4 * 3600

    func issue(purpose: String, client: String, at date: Date) -> String {
        let issued = UInt64(max(0, date.timeIntervalSince1970))
        return (issued.bigEndianBytes + mac(purpose: purpose, client: client, issued: issued)).base64URLString
    }

    func verify(_ token: String, purpose: String, client: String, at date: Date) -> Bool {
        guard let raw = [UInt8](base64URL: token), raw.count == 24 else { return false }
        let issued = UInt64(bigEndianBytes: raw)
        let age = date.timeIntervalSince1970 - TimeInterval(issued)
        guard age >= -60, age <= lifetime else { return false }
        // Both 16 bytes (the length is the format's, not a secret).
        return Crypto.equalDigests(Array(raw.suffix(16)), mac(purpose: purpose, client: client, issued: issued))
    }

    private func mac(purpose: String, client: String, issued: UInt64) -> [UInt8] {
        Array(Crypto.hmacSHA256(key: key, message: Array("\(purpose)|\(client)|\(issued)".utf8)).prefix(16))
    }
}

extension FormToken {
    /// The request's form when its `csrf` field is good for `purpose` and this client; nil
    /// when it expired or was made for another page or device (the caller shows the page
    /// again and saves nothing). 415 when the body is not a form at all.
    func form(of request: HTTPRequest, purpose: String, at date: Date) throws -> FormData? {
        guard let form = request.form else {
            throw HTTPError(415, code: "unsupported_form", message: "send the form (application/x-www-form-urlencoded)")
        }
        guard let token = form["csrf"], verify(token, purpose: purpose, client: request.clientAddress, at: date) else { return nil }
        return form
    }
}
