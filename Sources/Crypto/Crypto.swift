internal import COpenSSL
import Foundation
import Synchronization

/// The only Swift that touches libcrypto: SHA-256, HMAC-SHA256 and the CSPRNG.
public enum Crypto {
    /// For secrets stored only as their hash (check-in links, API tokens): they are
    /// random and long, so a plain digest needs no salt or stretching.
    public static func sha256(_ message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        message.withUnsafeBytes { bytes in
            _ = SHA256(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &digest)
        }
        return digest
    }

    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        if let prepared = preparedHMAC(key) {
            var digest = [UInt8](repeating: 0, count: 32)
            let ok = message.withUnsafeBytes { bytes in
                portald_hmac_sha256_with(prepared, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, &digest)
            }
            if ok == 1 { return digest }
        }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                     messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBytes.count,
                     &digest, &length)
            }
        }
        precondition(result != nil, "HMAC-SHA256 failed")
        return Array(digest.prefix(Int(length)))
    }

    public static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&bytes, Int32(count)) == 1, "the CSPRNG failed")
        return bytes
    }

    /// Compares secrets in time independent of where they differ and of their lengths:
    /// both are first reduced to HMACs under a key of this process (32 bytes each, so
    /// no early return on a length mismatch tells a guesser the secret's length).
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        equalDigests(hmacSHA256(key: comparisonKey, message: a), hmacSHA256(key: comparisonKey, message: b))
    }

    /// Compares two digests of one fixed, public length (a form token's 16-byte MAC)
    /// in constant time, without `constantTimeEqual`'s two extra HMACs: with OpenSSL 3
    /// each fetches its algorithms anew, and they were most of checking a login's form.
    public static func equalDigests(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        precondition(a.count == b.count, "digests of one length only")
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, x.count) == 0 } }
    }

    private static let comparisonKey = randomBytes(32)

    /// Keys' prepared HMAC contexts: the process's own keys and the webhook secrets. At most
    /// `preparedLimit`; past it a key is hashed the slow way (contexts are never freed, as
    /// another thread may be duplicating one).
    private static let prepared = Mutex<[[UInt8]: OpaquePointer]>([:])
    private static let preparedLimit = 64

    private static func preparedHMAC(_ key: [UInt8]) -> OpaquePointer? {
        prepared.withLock { contexts in
            if let context = contexts[key] { return context }
            guard contexts.count < preparedLimit,
                  let context = key.withUnsafeBytes({ portald_hmac_sha256_prepare($0.baseAddress?.assumingMemoryBound(to: UInt8.self), $0.count) })
            else { return nil }
            contexts[key] = context
            return context
        }
    }
}
