import Crypto
import Firewall
import Foundation
import Synchronization

/// What never reaches the log: secrets and tokens (cut out wherever they appear, a
/// second line of defence behind log calls that do not pass them), and with
/// `[privacy] hash_macs` guests' MACs, each replaced by a keyed hash that is the same
/// on every line and every restart, so a journal reader can follow one device without
/// learning its address.
public final class LogPrivacy: Sendable {
    public let hashMACs: Bool
    /// The site's hashing key, from the store once it is open.
    private let key = Mutex<[UInt8]?>(nil)

    public init(hashMACs: Bool) {
        self.hashMACs = hashMACs
    }

    /// The key MACs are hashed with (a secret of the site's store). Until it is given,
    /// MACs are replaced by `mac~unknown`.
    public func useKey(_ key: [UInt8]) {
        self.key.withLock { $0 = key }
    }

    public func scrub(_ text: String) -> String {
        var text = Self.cutSecrets(text)
        if hashMACs { text = replaceEUI64(in: replaceMACs(in: text)) }
        return text
    }

    /// `mac~` and the first 10 hex digits of HMAC-SHA256(site key, the MAC in lower case with colons).
    public func hash(mac: String) -> String {
        guard let key = key.withLock({ $0 }) else { return "mac~unknown" }
        let normal = mac.lowercased().replacingOccurrences(of: "-", with: ":")
        return "mac~" + Array(Crypto.hmacSHA256(key: key, message: Array(normal.utf8)).prefix(5)).hexString
    }

    // MARK: Secrets

    /// Each kind of secret portald handles, by its shape. The substring test first: the
    /// patterns run only on the few lines that could hold one.
    static func cutSecrets(_ text: String) -> String {
        var text = text
        if text.contains("whsec_") { text = text.replacing(/whsec_[A-Za-z0-9+\/=]+/, with: "whsec_<redacted>") }
        if text.contains("pdt_") { text = text.replacing(/pdt_[A-Za-z0-9_-]+/, with: "pdt_<redacted>") }
        if text.contains("pdl_") { text = text.replacing(/pdl_[A-Za-z0-9_-]+/, with: "pdl_<redacted>") }
        if text.localizedCaseInsensitiveContains("bearer") { text = text.replacing(/(?i)bearer\s+[A-Za-z0-9._~+\/=-]+/, with: "Bearer <redacted>") }
        // A URL's user and password, or a token given as its user; up to the last `@` of the authority.
        if text.contains("://") { text = text.replacing(/:\/\/[^\/?#\s]*@/, with: "://<redacted>@") }
        if text.contains("=") {
            text = text.replacing(/([?&](?i:token|secret|key|sig|signature|password|passwd|access_token|api_key|apikey)=)[^&\s"]+/) { match in
                match.output.1 + "<redacted>"
            }
        }
        // A check-in or claim link's token opens a guest's registration data.
        if text.contains("/arrive/") || text.contains("/claim/") {
            text = text.replacing(/\/(arrive|claim)\/[A-Za-z0-9_-]{16,}/) { match in "/" + match.output.1 + "/{token}" }
        }
        return text
    }

    // MARK: MACs

    /// Every `hh:hh:hh:hh:hh:hh` (or with `-`) in `text`, hashed.
    func replaceMACs(in text: String) -> String {
        let bytes = Array(text.utf8)
        guard bytes.count >= 17 else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if index + 17 <= bytes.count, Self.isMAC(bytes[index..<(index + 17)]), !Self.continues(bytes, from: index, by: -1),
               !Self.continues(bytes, from: index + 16, by: 1) {
                out += Array(hash(mac: String(decoding: bytes[index..<(index + 17)], as: UTF8.self)).utf8)
                index += 17
            } else {
                out.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// IPv6 addresses whose interface identifier is EUI-64 (`…ff:fe…` in its middle) carry
    /// the device's MAC (SLAAC without privacy extensions): the identifier becomes the
    /// MAC's hash, so the line keeps the network and the same `mac~` as the device's MAC.
    func replaceEUI64(in text: String) -> String {
        guard text.localizedCaseInsensitiveContains("ff:fe") else { return text }
        return text.replacing(/[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}/) { match in
            let run = String(match.output)
            // The run may take in what follows the address: a `:` of the text (`…:4d5e: No route`)
            // or a port (`…:4d5e:443`, which parses as another address). Shorter readings are tried too.
            var candidates = [run]
            let trimmed = String(run.reversed().drop { $0 == ":" }.reversed())
            if trimmed != run { candidates.append(trimmed) }
            // Only a compressed address can lose its last group and still parse (the run holds 8 groups at most).
            if let last = trimmed.lastIndex(of: ":"), trimmed[..<last].contains("::") {
                candidates.append(String(trimmed[..<last]))
            }
            for candidate in candidates {
                guard let address = IPv6Address(candidate), let mac = Self.eui64MAC(address) else { continue }
                // The network's text always ends in `::`: the identifier's 8 bytes are zero.
                let network = IPv6Address(bytes: Array(address.bytes[0..<8]) + Array(repeating: 0, count: 8))?.description ?? "::"
                return network + hash(mac: mac.description) + run.dropFirst(candidate.count)
            }
            return run
        }
    }

    /// The MAC an EUI-64 interface identifier was made from (its U/L bit flipped back).
    static func eui64MAC(_ address: IPv6Address) -> MACAddress? {
        let id = address.bytes[8..<16].map { $0 }
        guard id[3] == 0xff, id[4] == 0xfe else { return nil }
        return MACAddress(bytes: [id[0] ^ 0x02, id[1], id[2], id[5], id[6], id[7]])
    }

    /// Whether the hex run goes on past `edge` (a MAC's first or last digit) in `direction`:
    /// more digits, or the separator and another group (`aa:bb:cc:dd:ee:ff:00` is no MAC).
    private static func continues(_ bytes: [UInt8], from edge: Int, by direction: Int) -> Bool {
        let separator = bytes[edge + (direction < 0 ? 2 : -2)]
        let next = edge + direction, after = edge + 2 * direction
        guard bytes.indices.contains(next) else { return false }
        // The separator is part of a longer run only when a hex digit or a second separator
        // is beyond it (`fd00::aa:bb:cc:dd:ee:ff`, `…:ee:ff::1`); `addr:02:…` and `…:ee:ff: EPERM` hold a MAC.
        return isHex(bytes[next]) || (bytes[next] == separator && bytes.indices.contains(after) && (isHex(bytes[after]) || bytes[after] == separator))
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }

    private static func isMAC(_ bytes: ArraySlice<UInt8>) -> Bool {
        let separator = bytes[bytes.startIndex + 2]
        guard separator == UInt8(ascii: ":") || separator == UInt8(ascii: "-") else { return false }
        for (offset, byte) in bytes.enumerated() {
            if offset % 3 == 2 { if byte != separator { return false } } else if !isHex(byte) { return false }
        }
        return true
    }
}
