import Foundation

extension Portald {
    /// A reload as SIGHUP makes it: rewrites the config file through `change`, sends
    /// SIGHUP to the daemon, and waits until the log holds `count` reload outcomes (applied,
    /// applied in part, or refused) in all. Unlike the unit's `ExecReload=`, no
    /// `check-config` runs first, so a broken file reaches the daemon.
    public func reload(_ count: Int, _ change: (String) -> String) throws {
        let config = try String(contentsOfFile: configPath, encoding: .utf8)
        try change(config).write(toFile: configPath, atomically: true, encoding: .utf8)
        // `ip netns exec` execs portald, so the process the lab started is the daemon itself.
        guard let pid = process?.processIdentifier else { throw LabError("portald is not running") }
        try Shell.run(["kill", "-HUP", "\(pid)"])
        let outcomes = ["configuration reloaded", "configuration reloaded in part", "reload refused; the running configuration is kept"]
        try waitUntil("reload \(count) is logged") {
            let log = log
            return outcomes.map { log.components(separatedBy: "msg=\"\($0)\"").count - 1 }.reduce(0, +) >= count
        }
    }
}
