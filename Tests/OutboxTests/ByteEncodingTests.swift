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
        }
    }
}
