internal import CResolv
import Firewall

/// A host name's addresses with each answer's TTL: the one Swift file facing libresolv
/// (`res_query`, the system's resolver configuration), which unlike getaddrinfo says how
/// long an answer may be kept. The answer is read as bytes here.
enum HostResolver {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// A and AAAA records of `host` (after any CNAMEs), with their TTLs in seconds. A name
    /// with neither is an error that says why (no such name, no answer from the resolver).
    static func resolve(_ host: String) throws -> [(address: IPAddress, ttl: Int)] {
        var found: [(IPAddress, Int)] = []
        var failures: [String] = []
        for type in [Int32(1), 28] {  // A, AAAA
            var answer = [UInt8](repeating: 0, count: 4096)
            let length = portald_res_query(host, type, &answer, Int32(answer.count))
            guard length > 0 else {
                failures.append(reason(portald_h_errno()))
                continue
            }
            found += records(in: Array(answer.prefix(Int(min(length, Int32(answer.count)))))).filter { type == 1 ? $0.0.ipv4 != nil : $0.0.ipv6 != nil }
        }
        guard !found.isEmpty else { throw Failure(description: "\(host): \(Set(failures).sorted().joined(separator: "; "))") }
        return found
    }

    private static func reason(_ code: Int32) -> String {
        switch code {
        case 1: "no such host"  // HOST_NOT_FOUND
        case 2: "no answer from the resolver (try again later)"  // TRY_AGAIN
        case 3: "the resolver refused or failed"  // NO_RECOVERY
        case 4: "no address of this family"  // NO_DATA
        default: "resolver error \(code)"
        }
    }

    /// The A and AAAA records of a DNS answer (RFC 1035 §4.1), skipping names (compressed
    /// or not) and any other record.
    static func records(in message: [UInt8]) -> [(IPAddress, Int)] {
        guard message.count >= 12 else { return [] }
        let questions = Int(message[4]) << 8 | Int(message[5]), answers = Int(message[6]) << 8 | Int(message[7])
        var offset = 12
        func skipName() -> Bool {
            while offset < message.count {
                let length = Int(message[offset])
                if length == 0 { offset += 1; return true }
                if length & 0xc0 == 0xc0 { offset += 2; return offset <= message.count }
                offset += 1 + length
            }
            return false
        }
        for _ in 0..<questions {
            guard skipName() else { return [] }
            offset += 4
        }
        var result: [(IPAddress, Int)] = []
        for _ in 0..<answers {
            guard skipName(), offset + 10 <= message.count else { break }
            let type = Int(message[offset]) << 8 | Int(message[offset + 1])
            let ttl = message[(offset + 4)..<(offset + 8)].reduce(0) { $0 << 8 | Int($1) }
            let length = Int(message[offset + 8]) << 8 | Int(message[offset + 9])
            offset += 10
            guard offset + length <= message.count else { break }
            let data = Array(message[offset..<(offset + length)])
            if type == 1, let address = IPv4Address(octets: data) { result.append((.v4(address), ttl)) }
            if type == 28, let address = IPv6Address(bytes: data) { result.append((.v6(address), ttl)) }
            offset += length
        }
        return result
    }
}
