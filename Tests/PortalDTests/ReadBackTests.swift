import Firewall
import Foundation
import Lab
import Logging
import Synchronization
import Testing
@testable import PortalD

/// The reconciler reads the kernel's sets back only when something but portald may have
/// changed them: the ruleset's generation, a failure, a wall-clock jump, or time.
@Suite("the reconciler's read-back", .serialized)
struct ReadBackTests {
    @Test("only portald's own commits since the last read-back: none; another process's commit, a clock jump: read back and repaired")
    func readBackWhenNeeded() throws {
        let namespace = try Namespace(Namespace.uniqueName("readback"))
        defer { namespace.destroy() }
        let table = "portald_readback"
        let firewall = try namespace.enter {
            try NFTablesFirewall(settings: CaptureSettings(table: table, lanInterface: "lan0", portalAddress: IPv4Address("192.0.2.1")!, portalPort: 8080))
        }
        let (store, _) = try temporaryStore()
        // The wall clock as it runs, and a jump on demand: a frozen clock would itself look
        // like a jump once the test has run for 2 s.
        let jumps = Mutex<TimeInterval>(0)
        let sessions = SessionService(store: store, firewall: firewall, sessionMinutes: 60, logger: Logger(label: "t"),
                                      now: { Date().addingTimeInterval(jumps.withLock { $0 }) })
        let phone = MACAddress("02:00:00:00:00:10")!, ipv4 = IPv4Address("192.0.2.10")!
        #expect(try sessions.restore() == 0)
        #expect(try firewall.isUnchanged(), "just installed")
        try sessions.login(mac: phone, ipv4: ipv4, method: .terms)
        #expect(try firewall.isUnchanged(), "a login is portald's own commit")
        func last() -> SessionService.ReconcileRecord? { sessions.reconcileRecords().last }
        #expect(try sessions.reconcile()?.isEmpty == true && last()?.readBack == false)

        // Another process commits (an unrelated table): the sets are read back; nothing to repair.
        _ = try namespace.exec(["nft", "add", "table", "inet", "someone_else"])
        #expect(try !firewall.isUnchanged())
        #expect(try sessions.reconcile()?.isEmpty == true && last()?.readBack == true)
        #expect(try firewall.isUnchanged(), "the read-back found the kernel as portald left it")

        // An element deleted behind portald's back: read back, and put back.
        _ = try namespace.exec(["nft", "delete", "element", "inet", table, "authorized", "{ 02:00:00:00:00:10 . 192.0.2.10 }"])
        #expect(try sessions.reconcile()?.added == [DeviceKey(mac: phone, ipv4: ipv4)] && last()?.readBack == true)
        #expect(try namespace.exec(["nft", "list", "set", "inet", table, "authorized"]).stdout.contains("02:00:00:00:00:10 . 192.0.2.10"))
        #expect(try sessions.reconcile()?.isEmpty == true && last()?.readBack == false)

        // The wall clock jumps: the kernel's timeouts and the sessions' ends may disagree.
        jumps.withLock { $0 += 30 }
        #expect(try sessions.reconcile()?.isEmpty == true && last()?.readBack == true)

        // A commit that fails leaves the kernel unknown until the next read-back.
        _ = try namespace.exec(["nft", "delete", "table", "inet", table])
        #expect(throws: FirewallError.self) { try firewall.restore([AuthorizedDevice(mac: phone, ipv4: ipv4, timeout: nil)]) }
        #expect(try !firewall.isUnchanged())
        #expect(try sessions.reconcile()?.reinstalled == true)
        #expect(try firewall.isUnchanged())
    }
}
