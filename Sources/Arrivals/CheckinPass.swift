import Crypto
import Foundation

/// What "find my booking" hands a guest instead of the reservation's check-in link,
/// which portald cannot give out (it keeps only its hash): a short-lived link token
/// signed with the site's key, naming the reservation. `/arrive/{token}` takes either.
/// Written `<base64url(expiry ‖ MAC)>.<base64url(reservation id)>`; the MAC (128 bits
/// of HMAC-SHA256) covers the id and the expiry.
public struct CheckinPass: Sendable {
    public let key: [UInt8]
    public var lifetime: TimeInterval = 2 * 3600

    public init(key: [UInt8]) { self.key = key }

    /// Whether `token` has a pass's shape (a check-in link's token has no dot).
    public static func isPass(_ token: String) -> Bool { token.contains(".") }

    public func issue(reservationID: String, at date: Date) -> String {
        let expiry = UInt64(max(0, date.timeIntervalSince1970 + lifetime))
        return (expiry.bigEndianBytes + mac(reservationID, expiry)).base64URLString + "." + Array(reservationID.utf8).base64URLString
    }

    /// The reservation id, if `token` is a pass made with this key and not expired.
    public func reservationID(_ token: String, at date: Date) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count <= 200, let seal = [UInt8](base64URL: String(parts[0])), seal.count == 24,
              let idBytes = [UInt8](base64URL: String(parts[1])), let id = String(validating: idBytes, as: UTF8.self) else { return nil }
        let expiry = UInt64(bigEndianBytes: seal)
        guard TimeInterval(expiry) > date.timeIntervalSince1970, Crypto.constantTimeEqual(Array(seal.suffix(16)), mac(id, expiry)) else { return nil }
        return id
    }

    private func mac(_ id: String, _ expiry: UInt64) -> [UInt8] {
        Array(Crypto.hmacSHA256(key: key, message: Array("arrive-pass|\(expiry)|\(id)".utf8)).prefix(16))
    }
}
