import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Stands in for systemd's `$NOTIFY_SOCKET`: a datagram socket on a file path
/// (path sockets reach across network namespaces) that collects sd_notify messages.
public final class NotifySocket: @unchecked Sendable {
    public let path: String
    private let descriptor: Int32

    public init() throws {
        path = Scratch.directory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw LabError("cannot bind \(path)") }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Waits for a message containing `text`; returns every message read meanwhile.
    public func waitFor(_ text: String, timeout: Duration = .seconds(10)) throws -> [String] {
        var seen: [String] = []
        let deadline = ContinuousClock.now + timeout
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            let message = String(decoding: buffer.prefix(count), as: UTF8.self)
            seen.append(message)
            if message.contains(text) { return seen }
        }
        throw LabError("no sd_notify message with \(text); got \(seen)")
    }

    /// Every message that arrives within `period`.
    public func collect(for period: Duration) -> [String] {
        var seen: [String] = []
        let deadline = ContinuousClock.now + period
        var buffer = [UInt8](repeating: 0, count: 4096)
        while ContinuousClock.now < deadline {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count > 0 { seen.append(String(decoding: buffer.prefix(count), as: UTF8.self)) }
        }
        return seen
    }

    deinit {
        close(descriptor)
        unlink(path)
    }
}
