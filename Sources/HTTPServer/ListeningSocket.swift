import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A bound, listening TCP socket. Bound here rather than by libmicrohttpd so that
/// IPv4 and IPv6 addresses, port 0 and bind errors are handled in one place.
struct ListeningSocket {
    let descriptor: Int32
    let port: UInt16

    init(_ address: ListenAddress) throws {
        let (resolved, length, family) = try socketAddress(address)
        var storage = resolved
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw HTTPServerError("\(address): socket() failed: \(String(cString: strerror(errno)))") }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw HTTPServerError("cannot listen on \(address): \(reason)")
        }
        guard listen(fd, 1024) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw HTTPServerError("cannot listen on \(address): \(reason)")
        }
        var actual = sockaddr_storage()
        var actualLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &actualLength) }
        }
        let port = withUnsafeBytes(of: actual) { raw -> UInt16 in
            family == AF_INET6 ? UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
                               : UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
        }
        self.descriptor = fd
        self.port = port
    }
}

/// `address` as a sockaddr, its length and family.
private func socketAddress(_ address: ListenAddress) throws -> (sockaddr_storage, socklen_t, Int32) {
    var storage = sockaddr_storage()
    if address.host.contains(":") {
        var sin6 = sockaddr_in6()
        sin6.sin6_family = sa_family_t(AF_INET6)
        sin6.sin6_port = address.port.bigEndian
        guard inet_pton(AF_INET6, address.host, &sin6.sin6_addr) == 1 else {
            throw HTTPServerError("\(address): not an IPv6 address")
        }
        withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: sin6, as: sockaddr_in6.self) }
        return (storage, socklen_t(MemoryLayout<sockaddr_in6>.size), AF_INET6)
    }
    var sin = sockaddr_in()
    sin.sin_family = sa_family_t(AF_INET)
    sin.sin_port = address.port.bigEndian
    let host = address.host == "localhost" ? "127.0.0.1" : address.host
    guard inet_pton(AF_INET, host, &sin.sin_addr) == 1 else {
        throw HTTPServerError("\(address): not an IPv4 address")
    }
    withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: sin, as: sockaddr_in.self) }
    return (storage, socklen_t(MemoryLayout<sockaddr_in>.size), AF_INET)
}

extension ListeningSocket {
    /// Writes `bytes` to an accepted connection's socket, bypassing MHD, and ends the
    /// sending side. Non-blocking, and a few hundred bytes that a fresh socket's send
    /// buffer takes whole; should it take only part, the rest is sent while it keeps
    /// taking, never waited for.
    static func sendLast(_ bytes: [UInt8], to descriptor: Int32) {
        guard descriptor >= 0 else { return }
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if count > 0 { sent += count } else if count < 0 && errno == EINTR { continue } else { break }
        }
        shutdown(descriptor, Int32(SHUT_WR))
    }
}

extension HTTPServer {
    /// Whether a listener at `address` answers `GET path` with an HTTP status line within
    /// `timeout`: the health check's view of the portal, through the same socket as a guest's.
    /// A wildcard address is probed on loopback.
    public static func answers(at address: ListenAddress, path: String, host: String? = nil, timeout: Duration = .seconds(2)) -> Bool {
        var target = address
        if target.host == "0.0.0.0" { target.host = "127.0.0.1" }
        if target.host == "::" { target.host = "::1" }
        guard let (address, length, family) = try? socketAddress(target) else { return false }
        var storage = address
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let milliseconds = Int(timeout.components.seconds) * 1000 + Int(timeout.components.attoseconds / 1_000_000_000_000_000)
        var limit = timeval(tv_sec: milliseconds / 1000, tv_usec: (milliseconds % 1000) * 1000)
        // On Linux a blocking connect() also gives up after SO_SNDTIMEO.
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard connected == 0 else { return false }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host ?? target.description)\r\nUser-Agent: portald-health\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return false }
        var answer = [UInt8](repeating: 0, count: 16)
        let count = recv(fd, &answer, answer.count, Int32(MSG_WAITALL))
        return count >= 9 && answer.starts(with: Array("HTTP/1.".utf8))
    }
}

/// IP addresses as text, in the one spelling the kernel writes a peer's address in.
public enum IPAddressText {
    /// `text` as an IPv4 or IPv6 address in canonical form (IPv6 compressed and lowercased,
    /// an IPv4-mapped IPv6 address as its IPv4 address, as peers are reported); nil for
    /// anything else, a port included.
    public static func canonical(_ text: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return inet_ntop(AF_INET, &v4, &buffer, socklen_t(buffer.count)) != nil ? cString(buffer) : nil
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xff && bytes[11] == 0xff {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        return inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil ? cString(buffer) : nil
    }

    /// A C string in `buffer`, up to its terminating zero.
    private static func cString(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

public struct HTTPServerError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
