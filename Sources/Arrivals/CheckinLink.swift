import Crypto
import Foundation

/// A reservation's check-in link: `<[arrivals] public_url>/arrive/<token>`. The token
/// is 144 random bits from the CSPRNG, shown once and stored only as its SHA-256, so
/// neither a copy of the database nor its backups hold a working link. It stops working
/// at the end of the departure day (site time), or at once when it is rotated.
public enum CheckinLink {
    public static func newToken() -> (token: String, hash: [UInt8]) {
        let token = Crypto.randomBytes(18).base64URLString  // 24 characters, no padding
        return (token, hash(token))
    }

    public static func hash(_ token: String) -> [UInt8] { Crypto.sha256(Array(token.utf8)) }

    /// `<base>/<path>/<token>`: a check-in link (`arrive`) or a companion's invite (`claim`).
    /// Never built from a request's Host header: a forged Host would make portald hand
    /// out links to someone else's server.
    public static func url(base: URL, path: String = "arrive", token: String) -> URL {
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        return URL(string: text + "/" + path + "/" + token)!
    }

    public static func expiry(departure: LocalDate, in zone: TimeZone) -> Date { departure.end(in: zone) }
}
