import Firewall
import Foundation
import Lab
import Logging
import Testing
@testable import PortalD

/// 10 000 live sessions on the real netlink path, in a namespace of the test's own.
@Suite("10 000 devices", .serialized)
struct ScaleTests {
    @Test("10 000 sessions: installed in one batch at start, a login with the rest in place, a reconcile with nothing to do, 1 000 expiring at once")
    func tenThousand() throws {
        let namespace = try Namespace(Namespace.uniqueName("scale"))
        defer { namespace.destroy() }
        let table = "portald_scale"
        let firewall = try namespace.enter {
            try NFTablesFirewall(settings: CaptureSettings(table: table, lanInterface: "lan0", portalAddress: IPv4Address("192.0.2.1")!, portalPort: 8080))
        }
        let (store, _) = try temporaryStore()
        let clock = TestClock()
        // As a restart finds them: written straight into the database; the first 1 000 end within the hour.
        try store.pool.write { db in
            for n in 0..<10_000 {
                let high = UInt8(n >> 8), low = UInt8(n & 0xff)
                let session = Session(id: "s\(n)", device: DeviceBinding(mac: MACAddress(bytes: [2, 0, 0, 0, high, low])!, ipv4: IPv4Address(octets: [10, 0, high, low])!),
                                      method: .terms, subject: nil, startedAt: clock.now, expiresAt: clock.now.addingTimeInterval(n < 1_000 ? 1_800 : 86_400))
                try SessionRecords.insert(session, in: db)
            }
        }
        let sessions = SessionService(store: store, firewall: firewall, sessionMinutes: 1440, logger: Logger(label: "t"), now: { clock.now })
        func elements() throws -> Int {
            try namespace.exec(["nft", "-j", "list", "set", "inet", table, "authorized"]).stdout.components(separatedBy: "\"concat\"").count - 1
        }
        var timings: [String] = []
        func timed<T>(_ what: String, _ body: () throws -> T) rethrows -> T {
            let started = ContinuousClock.now
            defer { timings.append("\(what) \(ContinuousClock.now - started)") }
            return try body()
        }
        #expect(try timed("install 10 000") { try sessions.restore() } == 10_000)
        #expect(try elements() == 10_000)
        try timed("one login beside them") { _ = try sessions.login(mac: MACAddress("02:00:00:01:00:00")!, ipv4: IPv4Address("192.0.2.50")!, method: .terms) }
        #expect(try elements() == 10_001)
        _ = try namespace.exec(["nft", "add", "table", "inet", "someone_else"])  // so the reconcile reads all 10 000 back
        #expect(try timed("reconcile") { try sessions.reconcile() }?.isEmpty == true)
        #expect(sessions.reconcileRecords().last?.readBack == true)
        clock.advance(3_600)
        #expect(try timed("expire 1 000") { try sessions.expireDue() }.count == 1_000)
        #expect(try elements() == 9_001)
        #expect(try sessions.activeSessions().count == 9_001)
        print("10 000 sessions: \(timings.joined(separator: ", "))")
    }
}
