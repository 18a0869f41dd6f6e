#if canImport(Glibc)
import Glibc
#endif

/// The process's open-file limit, which bounds how many connections can be held.
public enum DescriptorLimit {
    /// Descriptors kept for everything that is not a guest's connection: SQLite, netlink,
    /// curl's deliveries, the admin listener, logs.
    static let reserved = 256

    /// Raises the soft limit to the hard one (systemd's `LimitNOFILE=`, or the shell's),
    /// and returns the soft limit now in force.
    @discardableResult
    public static func raiseToHardLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// Connections one listener may hold: the soft limit less what the rest of the daemon needs.
    public static func connectionBudget() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 768 }
        return max(64, Int(clamping: limit.rlim_cur) - reserved)
    }
}
