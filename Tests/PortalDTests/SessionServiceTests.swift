import Firewall
import Foundation
import GRDB
import Logging
import Synchronization
import Testing
@testable import PortalD
@testable import Outbox
@testable import HTTPServer
import Store
import Crypto

/// A clock the tests move by hand.
final class TestClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
}

/// A firewall that refuses everything, to prove a failed authorize stores nothing.
struct RefusingFirewall: Firewall {
    func install(devices: [AuthorizedDevice]) throws {}
    func authorize(_ devices: [AuthorizedDevice]) throws { throw FirewallError("refused") }
    func deauthorize(_ devices: [(mac: MACAddress, ipv4: IPv4Address)]) throws {}
    func teardown() throws {}
    func counters() throws -> [IPv4Address: TrafficCounters] { [:] }
    func counters(for ipv4: IPv4Address) throws -> TrafficCounters? { nil }
}

func temporaryStore() throws -> (Store, String) {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("portald-test-\(UUID())/portald.db").path
    return (try Store(path: path, schemas: Daemon.schemas), path)
}

@Suite("sessions in SQLite, kept in step with the firewall")
struct SessionServiceTests {
    let mac = MACAddress("02:00:00:00:00:aa")!
    let ipv4 = IPv4Address("192.0.2.20")!

    func make(firewall: any Firewall = MemoryFirewall(), minutes: Int = 60) throws -> (SessionService, TestClock, String) {
        let (store, path) = try temporaryStore()
        let clock = TestClock()
        let service = SessionService(store: store, firewall: firewall, sessionMinutes: minutes, logger: Logger(label: "test"), now: { clock.now })
        return (service, clock, path)
    }

    @Test func storeIsWALWithMigrations() throws {
        let (store, _) = try temporaryStore()
        try store.pool.read { (db: Database) throws in
            #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "wal")
            #expect(try db.tableExists("session"))
            #expect(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
                    == ["v0: secrets", "v1: sessions and secrets", "v2: outbox", "v3: session traffic", "v4: session subject and device addresses"])
            #expect(try db.tableExists("outbox_event") && db.tableExists("delivery") && db.tableExists("delivery_attempt"))
        }
        let secret = try store.secret(named: "form-token")
        #expect(secret.count == 32)
        #expect(try store.secret(named: "form-token") == secret)
    }

    @Test func loginAuthorizesAndRecords() throws {
        let firewall = MemoryFirewall()
        let (service, clock, _) = try make(firewall: firewall)
        let session = try service.login(mac: mac, ipv4: ipv4, method: .terms)
        #expect(session.expiresAt == clock.now.addingTimeInterval(3600))
        #expect(firewall.devices == [AuthorizedDevice(mac: mac, ipv4: ipv4, timeout: .seconds(3600))])
        // The same device again from the same address keeps its session.
        clock.advance(60)
        #expect(try service.login(mac: mac, ipv4: ipv4, method: .terms).id == session.id)
        // From a new address: the old session is replaced.
        let moved = try service.login(mac: mac, ipv4: IPv4Address("192.0.2.21")!, method: .terms)
        #expect(moved.id != session.id)
        #expect(try service.session(id: session.id)?.endReason == .replaced)
        #expect(firewall.devices.map(\.ipv4) == [IPv4Address("192.0.2.21")!])
        #expect(try service.activeSessions().count == 1)
    }

    @Test func refusedAuthorizationStoresNothing() throws {
        let (service, _, _) = try make(firewall: RefusingFirewall())
        #expect(throws: SessionError.self) { try service.login(mac: mac, ipv4: ipv4, method: .terms) }
        #expect(try service.activeSessions().isEmpty)
    }

    @Test func deauthorizeEndsAndRemoves() throws {
        let firewall = MemoryFirewall()
        let (service, _, _) = try make(firewall: firewall)
        let session = try service.login(mac: mac, ipv4: ipv4, method: .admin)
        let ended = try service.deauthorize(mac: mac)
        #expect(ended.id == session.id)
        #expect(ended.endReason == .deauthorized)
        #expect(firewall.devices.isEmpty)
        do {
            try service.deauthorize(mac: mac)
            Issue.record("deauthorizing twice should fail")
        } catch let error as SessionError {
            #expect(error.kind == .notFound)
        }
    }

    @Test func expiryEndsDueSessionsOnly() throws {
        let firewall = MemoryFirewall()
        let (service, clock, _) = try make(firewall: firewall, minutes: 10)
        try service.login(mac: mac, ipv4: ipv4, method: .terms)
        let other = MACAddress("02:00:00:00:00:bb")!
        try service.login(mac: other, ipv4: IPv4Address("192.0.2.22")!, method: .admin, minutes: 30)
        clock.advance(599)
        #expect(try service.expireDue().isEmpty)
        clock.advance(1)
        let expired = try service.expireDue()
        #expect(expired.map(\.mac) == [mac])
        #expect(expired.first?.endReason == .expired)
        #expect(firewall.devices.map(\.mac) == [other])
    }

    @Test("traffic counted before a table reinstall is kept, and the end reports the total")
    func trafficSurvivesReinstall() throws {
        let firewall = MemoryFirewall()
        let (service, _, _) = try make(firewall: firewall)
        try service.login(mac: mac, ipv4: ipv4, method: .terms)
        firewall.addTraffic(ipv4, up: 1_000, down: 50_000)
        #expect(try service.restore() == 1)  // the table (and its counters) is replaced
        #expect(try firewall.counters()[ipv4] == .zero)
        #expect(try service.activeSession(mac: mac)?.bytesDown == 50_000)
        firewall.addTraffic(ipv4, up: 234, down: 6_789)
        let ended = try service.deauthorize(mac: mac)
        #expect(ended.bytesUp == 1_234)
        #expect(ended.bytesDown == 56_789)
        // A new session of the same device starts from zero.
        #expect(try service.login(mac: mac, ipv4: ipv4, method: .terms).bytesDown == 0)
    }

    @Test func restoreReinstallsValidSessionsWithTheirRemainingTime() throws {
        let (store, _) = try temporaryStore()
        let clock = TestClock()
        let first = SessionService(store: store, firewall: MemoryFirewall(), sessionMinutes: 60, logger: Logger(label: "t"), now: { clock.now })
        try first.login(mac: mac, ipv4: ipv4, method: .terms)
        try first.login(mac: MACAddress("02:00:00:00:00:bb")!, ipv4: IPv4Address("192.0.2.22")!, method: .admin, minutes: 5)
        clock.advance(600)
        // A new process: a new firewall, the same database.
        let firewall = MemoryFirewall()
        let second = SessionService(store: store, firewall: firewall, sessionMinutes: 60, logger: Logger(label: "t"), now: { clock.now })
        #expect(try second.restore() == 1)
        #expect(firewall.isInstalled)
        #expect(firewall.devices == [AuthorizedDevice(mac: mac, ipv4: ipv4, timeout: .seconds(3000))])
    }
}

@Suite("neighbour table")
struct NeighbourTableTests {
    @Test func parsesCompleteEntriesOnTheLAN() throws {
        let text = """
        IP address       HW type     Flags       HW address            Mask     Device
        192.0.2.10       0x1         0x2         02:00:00:00:00:10     *        lan0
        192.0.2.11       0x1         0x0         00:00:00:00:00:00     *        lan0
        198.51.100.2     0x1         0x2         02:00:00:00:00:99     *        wan0
        192.0.2.12       0x1         0x6         02:00:00:00:00:12     *        lan0
        """
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("arp-\(UUID())").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let table = NeighbourTable(interface: "lan0", path: path)
        #expect(table.entries().map(\.ipv4.description) == ["192.0.2.10", "192.0.2.12"])
        #expect(table.mac(for: IPv4Address("192.0.2.10")!) == MACAddress("02:00:00:00:00:10"))
        #expect(table.mac(for: IPv4Address("198.51.100.2")!) == nil)
        #expect(table.ipv4(for: MACAddress("02:00:00:00:00:12")!) == IPv4Address("192.0.2.12"))
        #expect(NeighbourTable(interface: nil, path: path).mac(for: IPv4Address("198.51.100.2")!) != nil)
    }
}
