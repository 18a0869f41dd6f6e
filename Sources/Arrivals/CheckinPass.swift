import Crypto
import Foundation

/// What "find my booking" hands a guest instead of the reservation's check-in link,
/// which portald cannot give out (it keeps only its hash): a short-lived link token
/// signed with the site's key, naming the reservation. `/arrive/{token}` takes either.
/// Written `<base64url(expiry ‖ MAC)>.<base64url(reservation id)>`; the MAC (128 bits
/// of HMAC-SHA256) covers the id, the expiry and the hash of the reservation's current
/// check-in link, so rotating the link ends the passes too.
public struct CheckinPass: Sendable {
    public let key: [UInt8]
    public var lifetime: TimeInterval = 2 * 3600

    public init(key: [UInt8]) { self.key = key }

    /// Whether `token` has a pass's shape (a check-in link's token has no dot).
    public static func isPass(_ token: String) -> Bool { token.contains(".") }

    public func issue(reservationID: String, linkHash: [UInt8], at date: Date) -> String {
        let expiry = UInt64(max(0, date.timeIntervalSince1970 + lifetime))
        return (expiry.bigEndianBytes + mac(reservationID, linkHash, expiry)).base64URLString + "." + Array(reservationID.utf8).base64URLString
    }

    /// The reservation `token` names, if it has a pass's form and has not expired; not yet
    /// proof: `verify` it against that reservation's current link.
    public func claimedID(_ token: String, at date: Date) -> String? {
        guard let (id, expiry, _) = parts(token), TimeInterval(expiry) > date.timeIntervalSince1970 else { return nil }
        return id
    }

    /// Whether `token` was made with this key for the reservation whose link has `linkHash`
    /// now: a new link (`rotateLink`) ends every pass made before it.
    public func verify(_ token: String, linkHash: [UInt8]) -> Bool {
        guard let (id, expiry, seal) = parts(token) else { return false }
        return Crypto.constantTimeEqual(seal, mac(id, linkHash, expiry))
    }

    private func parts(_ token: String) -> (id: String, expiry: UInt64, seal: [UInt8])? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1].count <= 200, let sealed = [UInt8](base64URL: String(parts[0])), sealed.count == 24,
              let idBytes = [UInt8](base64URL: String(parts[1])), let id = String(validating: idBytes, as: UTF8.self) else { return nil }
        return (id, UInt64(bigEndianBytes: sealed), Array(sealed.suffix(16)))
    }

    private func mac(_ id: String, _ linkHash: [UInt8], _ expiry: UInt64) -> [UInt8] {
        Array(Crypto.hmacSHA256(key: key, message: Array("arrive-pass|\(expiry)|\(linkHash.hexString)|\(id)".utf8)).prefix(16))
    }
}
