import HTTPServer

/// A guest's address behind the hotel's reverse proxy: `X-Forwarded-For`, believed
/// only on a connection from one of `[arrivals] trusted_proxies`. Each proxy appends
/// the address it was reached from, so the header is read from the right: the first
/// address that is not a trusted proxy is the guest's, and anything left of it is
/// what the guest (or anyone) may have written. Throttles count that address.
struct ForwardedFor: Sendable {
    /// Addresses as `normalized` writes them.
    let trusted: Set<String>

    init(trusted: [String]) {
        self.trusted = Set(trusted.compactMap(Self.normalized))
    }

    func client(of request: HTTPRequest) -> String {
        guard let peer = Self.normalized(request.clientAddress), trusted.contains(peer) else { return request.clientAddress }
        // Every X-Forwarded-For field, in order: a proxy may add a field rather than append to one.
        let hops = request.headers.filter { ASCII.equalIgnoringCase($0.0.utf8, "x-forwarded-for".utf8) }
            .flatMap { $0.1.split(separator: ",") }
        var client = peer
        for hop in hops.reversed() {
            // Something that is no address: the guest's own text, or a broken proxy. The last good hop stands.
            guard let address = Self.normalized(hop) else { return client }
            client = address
            if !trusted.contains(address) { break }
        }
        return client
    }

    /// An IPv4 or IPv6 address in the spelling peers are reported in; a port some proxies
    /// add (`203.0.113.7:51234`, `[2001:db8::7]:443`) is dropped. Nil for anything else.
    static func normalized(_ text: some StringProtocol) -> String? {
        var text = text.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && rest.dropFirst().allSatisfy(\.isASCII) && UInt16(rest.dropFirst()) != nil) else { return nil }
            text = String(text[text.index(after: text.startIndex)..<close])
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            guard UInt16(text[text.index(after: colon)...]) != nil else { return nil }
            text = String(text[..<colon])
        }
        return IPAddressText.canonical(text)
    }
}
