import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The three-namespace lab of DESIGN.md:
///
///     guest (g0 192.0.2.10) —— (lan0 192.0.2.1) gateway (wan0 198.51.100.1) —— (up0 198.51.100.2) upstream
///
/// The gateway forwards between the two; portald runs there and owns its nft table.
/// IPv6: 2001:db8:1::/64 on the LAN, 2001:db8:2::/64 upstream.
public final class NetworkLab: @unchecked Sendable {
    public let guest: Namespace
    public let gateway: Namespace
    public let upstream: Namespace
    private var processes: [Process] = []
    private let lock = NSLock()

    public static let guestIPv4 = "192.0.2.10"
    public static let gatewayLANIPv4 = "192.0.2.1"
    public static let gatewayWANIPv4 = "198.51.100.1"
    public static let upstreamIPv4 = "198.51.100.2"
    public static let guestIPv6 = "2001:db8:1::10"
    public static let gatewayLANIPv6 = "2001:db8:1::1"
    public static let upstreamIPv6 = "2001:db8:2::2"
    public static let lanInterface = "lan0"
    public static let guestMAC = "02:00:00:00:00:10"

    public init() throws {
        guest = try Namespace(Namespace.uniqueName("guest"))
        gateway = try Namespace(Namespace.uniqueName("gateway"))
        upstream = try Namespace(Namespace.uniqueName("upstream"))
        do {
            try wire()
        } catch {
            destroy()
            throw error
        }
    }

    private func wire() throws {
        // Both ends are made inside their namespaces: nothing appears on the host.
        try Shell.run(["ip", "link", "add", "g0", "netns", guest.name, "address", Self.guestMAC, "type", "veth",
                       "peer", "name", Self.lanInterface, "netns", gateway.name])
        try Shell.run(["ip", "link", "add", "wan0", "netns", gateway.name, "type", "veth",
                       "peer", "name", "up0", "netns", upstream.name])
        // No duplicate address detection on these private links: while a link-local address is
        // tentative (1-2 s after link up) the gateway drops the first forwarded IPv6 packet
        // (Ip6InNoRoutes), and a test's first IPv6 connection waits a SYN retransmit (1 s).
        // Set per interface (setting the namespaces' `default` before the veths were made
        // left their link-locals tentative here), and `all` too: the kernel uses the larger of
        // the two, and a host with `devconf_inherit_init_net` may hand namespaces `all` = 1.
        try guest.exec(["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.g0.accept_dad=0"])
        try gateway.exec(["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.\(Self.lanInterface).accept_dad=0",
                          "net.ipv6.conf.wan0.accept_dad=0"])
        try upstream.exec(["sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.up0.accept_dad=0"])
        try guest.exec(["ip", "addr", "add", "192.0.2.10/24", "dev", "g0"])
        try guest.exec(["ip", "-6", "addr", "add", "2001:db8:1::10/64", "dev", "g0", "nodad"])
        try guest.exec(["ip", "link", "set", "g0", "up"])
        try guest.exec(["ip", "route", "add", "default", "via", Self.gatewayLANIPv4])
        try guest.exec(["ip", "-6", "route", "add", "default", "via", Self.gatewayLANIPv6])
        try gateway.exec(["ip", "addr", "add", "192.0.2.1/24", "dev", Self.lanInterface])
        try gateway.exec(["ip", "-6", "addr", "add", "2001:db8:1::1/64", "dev", Self.lanInterface, "nodad"])
        try gateway.exec(["ip", "addr", "add", "198.51.100.1/24", "dev", "wan0"])
        try gateway.exec(["ip", "-6", "addr", "add", "2001:db8:2::1/64", "dev", "wan0", "nodad"])
        try gateway.exec(["ip", "link", "set", Self.lanInterface, "up"])
        try gateway.exec(["ip", "link", "set", "wan0", "up"])
        try gateway.exec(["sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"])
        try upstream.exec(["ip", "addr", "add", "198.51.100.2/24", "dev", "up0"])
        try upstream.exec(["ip", "-6", "addr", "add", "2001:db8:2::2/64", "dev", "up0", "nodad"])
        try upstream.exec(["ip", "link", "set", "up0", "up"])
        try upstream.exec(["ip", "route", "add", "192.0.2.0/24", "via", Self.gatewayWANIPv4])
        try upstream.exec(["ip", "-6", "route", "add", "2001:db8:1::/64", "via", "2001:db8:2::1"])
    }

    /// Starts a long-running program in `namespace`; it is killed by `destroy()`.
    @discardableResult
    public func spawn(in namespace: Namespace, _ arguments: [String], environment: [String: String] = [:], logTo logPath: String? = nil) throws -> Process {
        let process = try spawnProcess(["ip", "netns", "exec", namespace.name] + arguments, environment: environment, logTo: logPath)
        lock.withLock { processes.append(process) }
        return process
    }

    /// Starts "the internet": a plain HTTP server that answers `upstream-ok` on
    /// upstream:80 (captured) and upstream:8000 (neither captured nor reset: dropped), on
    /// its IPv4 and its IPv6 address;
    /// `/megabyte.bin` is 1 000 000 bytes, for counting traffic.
    public func startUpstreamWebServer() throws {
        let root = Scratch.directory.appendingPathComponent("lab-www-\(upstream.name)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try "upstream-ok\n".write(to: root.appendingPathComponent("index.html"), atomically: false, encoding: .utf8)
        try Data(count: 1_000_000).write(to: root.appendingPathComponent("megabyte.bin"))
        for port in ["80", "8000"] {
            for (address, url) in [(Self.upstreamIPv4, Self.upstreamIPv4), (Self.upstreamIPv6, "[\(Self.upstreamIPv6)]")] {
                try spawn(in: upstream, ["python3", "-m", "http.server", port, "--bind", address, "--directory", root.path])
                try waitUntil("upstream web server listens on \(url):\(port)") {
                    (try? self.upstream.exec(["curl", "-gsf", "-o", "/dev/null", "http://\(url):\(port)/"], check: false).status) == 0
                }
            }
        }
    }

    /// A guest's HTTP request: `curl` in the guest namespace.
    public func guestCurl(_ arguments: [String]) throws -> CommandResult {
        try guest.exec(["curl", "-s", "--max-time", "5"] + arguments, check: false)
    }

    /// Kills the lab's processes and deletes all three namespaces.
    public func destroy() {
        let running = lock.withLock { processes }
        for process in running where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
        for namespace in [guest, gateway, upstream] { namespace.destroy() }
    }
}

/// Starts a program (looked up in PATH) without waiting for it; output to `logPath` or nowhere.
public func spawnProcess(_ arguments: [String], environment: [String: String] = [:], logTo logPath: String? = nil) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    process.standardInput = FileHandle.nullDevice
    if let logPath {
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
    } else {
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
    }
    try process.run()
    return process
}

/// Polls `condition` every 50 ms until it holds, or throws after `timeout`.
public func waitUntil(_ what: String, timeout: Duration = .seconds(10), _ condition: () throws -> Bool) throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return }
        usleep(50_000)
    }
    throw LabError("timed out waiting until \(what)")
}
