import Crypto
import Foundation
import Lab
import Testing

@Suite struct ByteEncodingTests {
    @Test("base64url matches Foundation's base64 with the URL alphabet and no padding, and reads back")
    func base64URL() {
        var random = SplitMix64(seed: 7)
        for length in 0..<64 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0 ... .max, using: &random) }
            let expected = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(bytes.base64URLString == expected)
            #expect([UInt8](base64URL: bytes.base64URLString) == bytes)
            #expect([UInt8](base64URL: expected) == Array(Data(base64Encoded: Data(bytes).base64EncodedString())!))
        }
        for bad in ["A", "AAAAA", "AA=A", "AA+A", "AA/A", "AA A", "ÄÄÄÄ", "AAA\u{0}"] {
            #expect([UInt8](base64URL: bad) == nil, "\(bad)")
        }
        #expect([UInt8](base64URL: "") == [])
    }

    @Test("digests of one length compare equal only when every byte is")
    func equalDigests() {
        let digest = Crypto.hmacSHA256(key: [1, 2, 3], message: Array("form".utf8))
        #expect(Crypto.equalDigests(digest, digest))
        for index in digest.indices {
            var other = digest
            other[index] ^= 1
            #expect(!Crypto.equalDigests(digest, other))
        }
    }
}
