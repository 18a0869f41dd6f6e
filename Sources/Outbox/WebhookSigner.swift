import Crypto
import Foundation

/// The headers that let a receiver trust and de-duplicate a delivery:
/// Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`),
/// a GitHub-style `X-Signature`, and `Idempotency-Key`. Signed anew on every
/// attempt (the timestamp changes; the id and body never do).
public enum WebhookSigner {
    /// `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per key, space-separated.
    public static func standardSignature(id: String, timestamp: Int64, body: [UInt8], keys: [[UInt8]]) -> String {
        let message = Array("\(id).\(timestamp).".utf8) + body
        return keys.map { "v1," + Data(Crypto.hmacSHA256(key: $0, message: message)).base64EncodedString() }.joined(separator: " ")
    }

    /// `sha256=<hex HMAC-SHA256 of the body>` with the newest key.
    public static func bodySignature(body: [UInt8], key: [UInt8]) -> String {
        "sha256=" + Crypto.hmacSHA256(key: key, message: body).hexString
    }

    public static func headers(id: String, timestamp: Date, body: [UInt8], secrets: [WebhookSecret], userAgent: String = "portald",
                               contentType: String = "application/json") -> [(String, String)] {
        let seconds = Int64(timestamp.timeIntervalSince1970)
        let keys = secrets.filter { $0.validUntil.map { $0 > timestamp } ?? true }.map(\.key)
        let signing = keys.isEmpty ? [secrets[0].key] : keys
        return [
            ("Content-Type", contentType),
            ("User-Agent", userAgent),
            ("webhook-id", id),
            ("webhook-timestamp", String(seconds)),
            ("webhook-signature", standardSignature(id: id, timestamp: seconds, body: body, keys: signing)),
            ("X-Signature", bodySignature(body: body, key: signing[0])),
            ("Idempotency-Key", "\"\(id)\""),
        ]
    }
}
