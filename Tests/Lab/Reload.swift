import Foundation

extension Portald {
    /// `systemctl reload portald` as its unit does it: rewrites the config file through
    /// `change`, sends SIGHUP, and waits until the log holds `count` reload outcomes
    /// (applied or refused) in all.
    public func reload(_ count: Int, _ change: (String) -> String) throws {
        let config = try String(contentsOfFile: configPath, encoding: .utf8)
        try change(config).write(toFile: configPath, atomically: true, encoding: .utf8)
        // `ip netns exec` execs portald, so the process the lab started is the daemon itself.
        guard let pid = process?.processIdentifier else { throw LabError("portald is not running") }
        try Shell.run(["kill", "-HUP", "\(pid)"])
        try waitUntil("reload \(count) is logged") {
            let log = log
            return log.components(separatedBy: "msg=\"configuration reloaded\"").count
                + log.components(separatedBy: "msg=\"reload refused; the running configuration is kept\"").count - 2 >= count
        }
    }
}
