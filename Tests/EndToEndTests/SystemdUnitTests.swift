import Foundation
import Testing
import Lab

/// The shipped unit file, checked by systemd's own tools (no running systemd needed).
@Suite("systemd unit")
struct SystemdUnitTests {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The unit with its ExecStart pointing at the built binary, as `install` would place it.
    func installedCopy() throws -> String {
        let unit = try String(contentsOf: repository.appendingPathComponent("systemd/portald.service"), encoding: .utf8)
        let directory = Scratch.directory.appendingPathComponent("unit-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("portald.service").path
        try unit.replacingOccurrences(of: "/usr/local/bin/portald", with: Portald.binary).write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    @Test func unitVerifies() throws {
        let result = try Shell.run(["systemd-analyze", "verify", try installedCopy()], check: false)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }

    @Test func unitIsHardened() throws {
        let unit = try String(contentsOf: repository.appendingPathComponent("systemd/portald.service"), encoding: .utf8)
        for line in ["Type=notify", "User=portald", "AmbientCapabilities=CAP_NET_ADMIN CAP_NET_BIND_SERVICE",
                     "CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE", "WatchdogSec=", "NoNewPrivileges=yes", "StateDirectory=portald"] {
            #expect(unit.contains(line), "missing \(line)")
        }
        let report = try Shell.run(["systemd-analyze", "security", "--offline=yes", try installedCopy()], check: false).stdout
        let score = report.components(separatedBy: "Overall exposure level for portald.service: ").last?.split(separator: " ").first.flatMap { Double($0) }
        #expect(score != nil && score! <= 2.5, "exposure \(String(describing: score)):\n\(report.suffix(400))")
    }

    @Test func sysusersAndTmpfiles() throws {
        let sysusers = try String(contentsOf: repository.appendingPathComponent("systemd/portald.sysusers.conf"), encoding: .utf8)
        #expect(sysusers.contains("u portald - "))
        let tmpfiles = try String(contentsOf: repository.appendingPathComponent("systemd/portald.tmpfiles.conf"), encoding: .utf8)
        #expect(tmpfiles.contains("d /var/lib/portald 0750 portald portald -"))
    }
}
