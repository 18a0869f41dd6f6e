import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A network namespace the test made; `destroy()` kills what runs in it and deletes it.
public final class Namespace: @unchecked Sendable {
    public let name: String

    /// Makes a fresh namespace with `lo` up (Foundation's Process hangs in one whose `lo` is down).
    public init(_ name: String) throws {
        self.name = name
        _ = try? Shell.run(["ip", "netns", "del", name], check: false)
        try Shell.run(["ip", "netns", "add", name])
        try exec(["ip", "link", "set", "lo", "up"])
    }

    /// Runs a command inside the namespace and waits for it.
    @discardableResult
    public func exec(_ arguments: [String], environment: [String: String]? = nil, check: Bool = true) throws -> CommandResult {
        try Shell.run(["ip", "netns", "exec", name] + arguments, environment: environment, check: check)
    }

    /// Runs `body` on this thread with the thread inside the namespace: a socket it
    /// opens (netlink included) belongs to the namespace, never to the host.
    public func enter<T>(_ body: () throws -> T) throws -> T {
        let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        let target = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        defer { close(original); close(target) }
        guard original >= 0, target >= 0 else { throw LabError("cannot open namespace \(name)") }
        guard setns(target, cloneNewNet) == 0 else { throw LabError("setns into \(name) failed: errno \(errno)") }
        defer {
            if setns(original, cloneNewNet) != 0 { fatalError("cannot return from namespace \(name)") }
        }
        return try body()
    }

    /// Kills every process still inside, then deletes the namespace.
    public func destroy() {
        if let pids = try? Shell.run(["ip", "netns", "pids", name], check: false).stdout {
            for pid in pids.split(whereSeparator: \.isNewline) {
                if let pid = Int32(pid) { kill(pid, SIGKILL) }
            }
        }
        _ = try? Shell.run(["ip", "netns", "del", name], check: false)
    }

    /// A name no other test run on this machine uses.
    public static func uniqueName(_ role: String) -> String {
        "pdlab\(getpid())-\(counter.next())-\(role)"
    }

    private static let counter = Counter()
}

/// glibc declares setns(2) only under _GNU_SOURCE, which Swift's Glibc module lacks.
private let setns: @convention(c) (Int32, Int32) -> Int32 = {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "setns") else { fatalError("no setns in libc") }
    return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
}()
private let cloneNewNet: Int32 = 0x4000_0000

final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func next() -> Int { lock.withLock { value += 1; return value } }
}
