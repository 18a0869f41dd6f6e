import Firewall
import Foundation
import HTTPServer
import Synchronization

/// The answer to every request of a captured guest: a 302 to the portal that keeps
/// where the guest was going (`?url=`). A redirect, not a 200, is what makes every
/// phone OS open its sign-in sheet.
///
/// This is portald's hot path (a phone probes, apps retry), so the location is built
/// as bytes from a prefix prepared once, and hosts are compared without case-folded
/// copies.
struct CaptiveRedirect: Sendable {
    /// The public URL with a path and without a query.
    let home: String
    /// `host:port` forms (lower-cased) under which a request is for the portal itself.
    private let authorities: [[UInt8]]
    private let locationPrefix: [UInt8]
    private let bareRedirect: HTTPResponse

    /// `listenIPv6`: the IPv6 listener, whose `[address]:port` (as browsers write it) is the portal too.
    init(publicURL: URL, captureAddress: String, listen: ListenAddress, listenIPv6: ListenAddress? = nil) {
        let scheme = publicURL.scheme?.lowercased() ?? "http"
        let port = publicURL.port ?? (scheme == "https" ? 443 : 80)
        let host = publicURL.host?.lowercased() ?? ""
        var authorities: [String] = ["\(host):\(port)", "\(captureAddress):\(listen.port)"]
        if listen.host != "0.0.0.0" && listen.host != "::" {
            authorities.append(listen.description.lowercased())
        }
        if let listenIPv6, let address = IPv6Address(listenIPv6.host) {
            authorities.append("[\(address)]:\(listenIPv6.port)")
        }
        self.authorities = Array(Set(authorities)).map { Array($0.utf8) }
        var base = URLComponents(url: publicURL, resolvingAgainstBaseURL: false)!
        if base.path.isEmpty { base.path = "/" }
        base.query = nil
        home = base.string ?? publicURL.absoluteString
        locationPrefix = Array((home + "?url=http%3A%2F%2F").utf8)
        bareRedirect = .redirect(to: home)
    }

    /// Whether `host` (a Host header) names the portal. A host without a port means 80.
    func isPortal(host: String) -> Bool {
        let bytes = host.utf8
        let hasPort = bytes.last != UInt8(ascii: "]") && bytes.contains(UInt8(ascii: ":"))
        for authority in authorities {
            if hasPort {
                if ASCII.equalIgnoringCase(bytes, authority) { return true }
            } else if authority.count == bytes.count + 3, authority.suffix(3).elementsEqual(":80".utf8),
                      ASCII.equalIgnoringCase(bytes, authority.prefix(bytes.count)) {
                return true
            }
        }
        return false
    }

    /// The 302 for a captured request. Only a GET or HEAD keeps its destination: a
    /// form posted to another site cannot be replayed.
    func response(host: String?, target: String, method: HTTPMethod) -> HTTPResponse {
        guard let host, !host.isEmpty, method == .get || method == .head else { return bareRedirect }
        let key = RecentRedirects.Key(host: host, target: target)
        if let known = recent.answer(for: key) { return known }
        var location = locationPrefix
        location.reserveCapacity(location.count + (host.utf8.count + target.utf8.count) * 3)
        FormData.appendEncoded(host, to: &location)
        FormData.appendEncoded(target, to: &location)
        let response = HTTPResponse.redirect(to: String(decoding: location, as: UTF8.self))
        recent.keep(response, for: key)
        return response
    }

    private let recent = RecentRedirects()
}

/// The redirects built lately, by host and target: most captured requests are the
/// phone OSes' probes, the same few URLs from every device, so their answers are built
/// once rather than percent-encoded and escaped each time. Bounded: at most `capacity`
/// answers for short URLs, all forgotten when it fills.
final class RecentRedirects: Sendable {
    struct Key: Hashable {
        let host: String
        let target: String
    }

    static let capacity = 256
    static let longest = 512
    private let answers = Mutex<[Key: HTTPResponse]>([:])

    func answer(for key: Key) -> HTTPResponse? {
        answers.withLock { $0[key] }
    }

    func keep(_ response: HTTPResponse, for key: Key) {
        // ASCII only: Swift compares strings by Unicode equivalence, and an answer must keep
        // the very bytes its guest sent. The OS probes are ASCII.
        guard key.host.utf8.count + key.target.utf8.count <= Self.longest, key.host.utf8.allSatisfy({ $0 < 0x80 }),
              key.target.utf8.allSatisfy({ $0 < 0x80 }) else { return }
        answers.withLock { answers in
            if answers.count >= Self.capacity { answers.removeAll(keepingCapacity: true) }
            answers[key] = response
        }
    }
}
