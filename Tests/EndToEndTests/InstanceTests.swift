import Foundation
import Testing
import Lab

/// What a second start or a loose umask must not break.
@Suite("one instance per store, private files", .serialized)
struct InstanceTests {
    @Test("a second `portald serve` on the same config exits 1 naming the first, and touches neither its table nor its guests")
    func secondInstanceTouchesNothing() throws {
        let lab = try NetworkLab()
        defer { lab.destroy() }
        try lab.startUpstreamWebServer()
        let portald = try Portald(lab: lab)
        try portald.start()
        defer { try? portald.stop() }
        _ = try lab.guestCurl(["-o", "/dev/null", "http://\(NetworkLab.upstreamIPv4)/"])
        _ = try portald.cli(["auth", NetworkLab.guestMAC])
        // The table without what changes by itself (timeouts counting down, counters).
        func table() throws -> String {
            try portald.run(["nft", "list", "table", "inet", "portald"]).stdout
                .replacing(/\ expires [0-9hmsd]+/, with: "").replacing(/counter packets \d+ bytes \d+/, with: "counter")
        }
        let tableBefore = try table()

        let second = try portald.run(["timeout", "10", Portald.binary, "serve", "--config", portald.configPath], check: false)
        #expect(second.status == 1)
        let pid = try #require(portald.process?.processIdentifier)
        #expect(second.stderr.contains("another portald (pid \(pid)) is running"), "\(second.stderr)")

        // The first instance's capture is exactly as it was: its guest online, others still captured.
        #expect(try table() == tableBefore)
        #expect(try lab.guestCurl(["http://\(NetworkLab.upstreamIPv4)/"]).stdout.contains("upstream-ok"))
        #expect(try portald.cli(["clients"]).stdout.contains(NetworkLab.guestMAC))
    }

    @Test("the database, its WAL, the lock and the token file are private even under umask 000")
    func filesArePrivate() throws {
        let portald = try Portald.loopback()
        try portald.start(umask: "000")
        defer { try? portald.stop() }
        func mode(_ path: String) throws -> Int {
            try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        }
        let directory = portald.directory.path
        #expect(try mode("\(directory)/admin.token") == 0o600)
        for file in ["portald.db", "portald.db-wal", "portald.lock"] {
            let bits = try mode("\(directory)/\(file)")
            #expect(bits & 0o137 == 0, "\(file) is \(String(bits, radix: 8))")
        }
    }
}
