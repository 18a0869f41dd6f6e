import Firewall
import Foundation
import Lab
import GRDB
import Logging
import Synchronization
import Testing
@testable import PortalD
@testable import Outbox
@testable import HTTPServer
@testable import Store
import Crypto

/// A clock the tests move by hand.
final class TestClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { current.withLock { $0 += seconds } }
}

/// The in-memory firewall, made to refuse every change while `refusing` is set:
/// a kernel that fails (a full set, a missing table, no CAP_NET_ADMIN).
final class FaultyFirewall: Firewall {
    let memory = MemoryFirewall()
    private let refusal = Mutex(false)
    var refusing: Bool {
        get { refusal.withLock { $0 } }
        set { refusal.withLock { $0 = newValue } }
    }

    private let countersFailing = Mutex(false)
    /// Counter reads fail (netlink error) while set.
    var failingCounters: Bool {
        get { countersFailing.withLock { $0 } }
        set { countersFailing.withLock { $0 = newValue } }
    }

    private func check() throws { if refusing { throw FirewallError("refused") } }
    func install(devices: [AuthorizedDevice]) throws { try check(); try memory.install(devices: devices) }
    func update(removing: [DeviceKey], adding: [AuthorizedDevice]) throws { try check(); try memory.update(removing: removing, adding: adding) }
    func restore(_ devices: [AuthorizedDevice]) throws { try check(); try memory.restore(devices) }
    func state() throws -> FirewallState? { try check(); return try memory.state() }
    func teardown() throws { try memory.teardown() }
    func counters() throws -> [IPAddress: TrafficCounters] {
        if failingCounters { throw FirewallError("counters unreadable") }
        return try memory.counters()
    }
    func counters(for address: IPAddress) throws -> TrafficCounters? {
        if failingCounters { throw FirewallError("counters unreadable") }
        return try memory.counters(for: address)
    }
    func setDeviceRules(_ rules: DeviceRules) throws { try memory.setDeviceRules(rules); try check() }  // kept, as the real one does
    var deviceRules: DeviceRules { memory.deviceRules }
    func inventory() throws -> [(set: String, elements: Int)]? { try memory.inventory() }
    func addGardenAddresses(_ addresses: [(address: IPAddress, timeout: Duration)]) throws { try memory.addGardenAddresses(addresses) }

    /// Tiers and garden as the real firewall keeps them (it has no sets to reshape).
    let configured = Mutex<(tiers: [BandwidthTier], walledGarden: [IPNetwork])>(([], []))
    func reconfigure(tiers: [BandwidthTier], walledGarden: [IPNetwork]) -> (tiers: [BandwidthTier], walledGarden: [IPNetwork])? {
        configured.withLock { current in
            guard current.tiers != tiers || current.walledGarden != walledGarden else { return nil }
            defer { current = (tiers, walledGarden) }
            return current
        }
    }
}

func temporaryStore() throws -> (Store, String) {
    let path = Scratch.directory.appendingPathComponent("portald-test-\(UUID())/portald.db").path
    return (try Store(path: path, schemas: Daemon.schemas), path)
}

@Suite("sessions in SQLite, kept in step with the firewall")
struct SessionServiceTests {
    @Test("counters that cannot be read make an ended session's bytes unknown (null), not 0")
    func unreadableCountersAreUnknown() throws {
        let (store, _) = try temporaryStore()
        let clock = TestClock()
        let firewall = FaultyFirewall()
        let outbox = Outbox(siteID: "h", endpoints: [try WebhookEndpoint(
            id: "crm", url: URL(string: "http://192.0.2.99/hook")!,
            secrets: [WebhookSecret("whsec_" + Data(repeating: 7, count: 24).base64EncodedString())], topics: ["*"])])
        let service = SessionService(store: store, firewall: firewall, outbox: outbox, sessionMinutes: 60, logger: Logger(label: "t"), now: { clock.now })
        _ = try service.restore()
        func endedEvents() throws -> [[String: Any]] {
            try store.pool.read { try Data.fetchAll($0, sql: "SELECT body FROM outbox_event WHERE event = 'wifi.session.ended' ORDER BY sequence") }
                .map { try #require(try JSONSerialization.jsonObject(with: $0) as? [String: Any])["data"] as? [String: Any] ?? [:] }
        }
        // Readable: numbers.
        try service.login(mac: mac, ipv4: ipv4, method: .terms)
        try service.deauthorize(mac: mac)
        // Unreadable, on a deauth and on expiry: null each way.
        try service.login(mac: mac, ipv4: ipv4, method: .terms)
        firewall.failingCounters = true
        try service.deauthorize(mac: mac)
        firewall.failingCounters = false
        try service.login(mac: mac, ipv4: ipv4, method: .terms)
        firewall.failingCounters = true
        clock.advance(3601)
        #expect(try service.expireDue().count == 1)
        let events = try endedEvents()
        #expect(events.count == 3)
        #expect(events[0]["bytes_up"] as? Int == 0 && events[0]["bytes_down"] as? Int == 0)
        for event in events.dropFirst() {
            #expect(event["bytes_up"] is NSNull && event["bytes_down"] is NSNull, "\(event)")
            #expect(event["reason"] != nil)
        }
    }

    let mac = MACAddress("02:00:00:00:00:aa")!
    let ipv4 = IPv4Address("192.0.2.20")!

    func make(firewall: any Firewall = MemoryFirewall(), minutes: Int = 60) throws -> (SessionService, TestClock, String) {
        let (store, path) = try temporaryStore()
        let clock = TestClock()
        let service = SessionService(store: store, firewall: firewall, sessionMinutes: minutes, logger: Logger(label: "test"), now: { clock.now })
        return (service, clock, path)
    }

    /// Refuses the next commit once: a disk that fails under a login.
    final class FailingCommit: TransactionObserver, @unchecked Sendable {  // used on the writer's one thread
        var armed = true
        func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { true }
        func databaseDidChange(with event: DatabaseEvent) {}
        func databaseWillCommit() throws {
            if armed {
                armed = false
                throw DatabaseError(resultCode: .SQLITE_IOERR, message: "disk I/O error (test)")
            }
        }
        func databaseDidCommit(_ db: Database) {}
        func databaseDidRollback(_ db: Database) {}
    }

    @Test("a login whose commit fails leaves no session and no element, though its element was on its way")
    func failedCommitTakesTheElementBack() throws {
        let firewall = MemoryFirewall()
        let (store, _) = try temporaryStore()
        let service = SessionService(store: store, firewall: firewall, sessionMinutes: 60, logger: Logger(label: "test"))
        let failing = FailingCommit()
        store.pool.add(transactionObserver: failing, extent: .observerLifetime)
        #expect(throws: (any Error).self) { try service.login(mac: mac, ipv4: ipv4, method: .terms) }
        #expect(try service.activeSessions().isEmpty)
        #expect(firewall.devices.isEmpty, "the element applied during the commit was taken back")
        // The next login goes through, and the kernel holds it.
        let session = try service.login(mac: mac, ipv4: ipv4, method: .terms)
        #expect(try firewall.devices.map(\.mac) == [mac] && service.activeSessions().map(\.id) == [session.id])
    }

    @Test func storeIsWALWithMigrations() throws {
        let (store, _) = try temporaryStore()
        try store.pool.read { (db: Database) throws in
            #expect(try String.fetchOne(db, sql: "PRAGMA journal_mode") == "wal")
            #expect(try db.tableExists("session"))
            #expect(try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
                    == ["v0: secrets", "v1: sessions and secrets", "v2: outbox", "v3: session traffic", "v4: session subject and device addresses", "v5: store probe", "v6: reservations", "v7: api tokens", "v8: inbound receipts", "v9: webhook endpoints", "v10: reservation lookup by reference", "v11: online check-in", "v12: idempotency keys", "v13: companion invites", "v14: WAL restart", "v15: device rules", "v16: session tier", "v17: live address bindings"])
            #expect(try db.tableExists("outbox_event") && db.tableExists("delivery") && db.tableExists("delivery_attempt"))
        }
        // Durable across power loss unless the operator chose otherwise; checkpoints are periodic, not per commit.
        // The writer's setting is what counts (GRDB's WAL set-up once overrode it to NORMAL unseen).
        #expect(try store.pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 2)  // FULL
        #expect(try store.pool.read { try Int.fetchOne($0, sql: "PRAGMA wal_autocheckpoint") } == Store.backstopPages)
        let normal = try Store(path: Scratch.directory.appendingPathComponent("portald-test-\(UUID())/n.db").path,
                               schemas: [], durability: .normal)
        #expect(try normal.pool.writeWithoutTransaction { try Int.fetchOne($0, sql: "PRAGMA synchronous") } == 1)  // NORMAL
        let secret = try store.secret(named: "form-token")
        #expect(secret.count == 32)
        #expect(try store.secret(named: "form-token") == secret)
    }

    @Test("checkpoint() moves committed rows from the WAL into the database file")
    func checkpointCopiesTheWAL() throws {
        let (store, path) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        _ = try store.secret(named: "probe")
        /// The rows a copy of the main file alone holds: only what was checkpointed.
        func secretsInMainFile() throws -> Int {
            let copy = path + ".copy"
            try? FileManager.default.removeItem(atPath: copy)
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            defer { try? FileManager.default.removeItem(atPath: copy) }
            // Before a checkpoint the file may not even hold the table yet.
            return try DatabaseQueue(path: copy).read { db in (try? Int.fetchOne(db, sql: "SELECT COUNT(*) FROM secret")) ?? 0 }
        }
        #expect(try secretsInMainFile() == 0, "the write is still only in the WAL")
        try store.checkpoint()
        #expect(try secretsInMainFile() == 1)
    }

    @Test("checkpoint() starts the WAL over itself, so the next commit (a login) pays one fsync, not two; idle, it writes nothing")
    func checkpointRestartsTheWAL() throws {
        let (store, path) = try temporaryStore()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        /// The WAL header's checkpoint sequence: SQLite adds one each time a commit starts the WAL over.
        func restarts() throws -> UInt32 {
            let header = try Data(contentsOf: URL(fileURLWithPath: path + "-wal")).prefix(16)
            return header.suffix(4).reduce(0) { $0 << 8 | UInt32($1) }
        }
        func commit() throws { try store.pool.write { db in try db.execute(sql: "INSERT INTO store_probe(id, checked_at) VALUES (1, 0) ON CONFLICT(id) DO UPDATE SET checked_at = checked_at + 1") } }
        try commit()
        let before = try restarts()
        try store.checkpoint()
        #expect(try restarts() == before + 1, "the checkpointer's own commit started the WAL over")
        try commit()
        #expect(try restarts() == before + 1, "the commit after a checkpoint appends to the WAL")
        try store.checkpoint()
        try commit()
        #expect(try restarts() == before + 2)
        try store.checkpoint()
        #expect(try restarts() == before + 3)
        // Nothing committed since: the next call neither copies nor writes, and a commit after it still appends.
        let restartedAt = { try store.pool.read { try Double.fetchOne($0, sql: "SELECT restarted_at FROM store_wal_restart") } }
        let stamp = try restartedAt()
        try store.checkpoint()
        #expect(try restarts() == before + 3)
        #expect(try restartedAt() == stamp)
        try commit()
        #expect(try restarts() == before + 3)
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

    @Test("a later login by another method or for another subject replaces the session, and both are stored")
    func loginByAnotherMethodReplaces() throws {
        let (service, clock, path) = try make()
        let terms = try service.login(mac: mac, ipv4: ipv4, method: .terms)
        clock.advance(60)
        let arrival = try service.login(mac: mac, ipv4: ipv4, method: .arrival, subject: .reservation("R-1042"))
        #expect(arrival.id != terms.id)
        #expect(try service.session(id: terms.id)?.endReason == .replaced)
        // The same method and subject again keeps it; another reservation replaces it.
        #expect(try service.login(mac: mac, ipv4: ipv4, method: .arrival, subject: .reservation("R-1042")).id == arrival.id)
        let other = try service.login(mac: mac, ipv4: ipv4, method: .code, subject: .accessCode("AC-7"))
        #expect(other.id != arrival.id)
        // Read back from a fresh store: the subject and method round-trip through SQLite.
        let reopened = SessionService(store: try Store(path: path, schemas: Daemon.schemas), firewall: MemoryFirewall(),
                                      sessionMinutes: 60, logger: Logger(label: "test"))
        let stored = try #require(try reopened.session(id: arrival.id))
        #expect(stored.method == .arrival)
        #expect(stored.subject == .reservation("R-1042"))
        #expect(stored.ipv4 == ipv4)
        #expect(try reopened.session(id: other.id)?.subject == .accessCode("AC-7"))
        #expect(try reopened.session(id: terms.id)?.subject == nil)
    }

    @Test("a database from before subjects and address bindings upgrades in place, its guests kept")
    func upgradeFromTheReleasedSchema() throws {
        let path = Scratch.directory.appendingPathComponent("portald-upgrade-\(UUID())/portald.db").path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let old = try DatabasePool(path: path)
        try Store.migrator(schemas: Daemon.schemas).migrate(old, upTo: "v3: session traffic")
        let started = Date(timeIntervalSinceNow: -600), expires = Date(timeIntervalSinceNow: 1800)
        try old.write { db in
            try db.execute(sql: """
                INSERT INTO session(id, mac, ipv4, method, started_at, expires_at, bytes_up, bytes_down)
                VALUES ('live', ?, ?, 'terms', ?, ?, 10, 20), ('gone', '02:00:00:00:00:bb', '192.0.2.30', 'admin', ?, ?, 0, 0)
                """, arguments: [mac.description, ipv4.description, started, expires, started, started])
            try db.execute(sql: "UPDATE session SET ended_at = ?, end_reason = 'expired' WHERE id = 'gone'", arguments: [started])
        }
        try old.close()

        let firewall = MemoryFirewall()
        let service = SessionService(store: try Store(path: path, schemas: Daemon.schemas), firewall: firewall,
                                     sessionMinutes: 60, logger: Logger(label: "test"))
        #expect(try service.restore() == 1)
        #expect(firewall.devices.map(\.mac) == [mac])
        #expect(firewall.devices.map(\.ipv4) == [ipv4])
        let live = try #require(try service.session(id: "live"))
        #expect(live.ipv4 == ipv4)
        #expect(live.subject == nil)
        #expect(live.method == .terms)
        #expect(try service.session(id: "gone")?.ipv4 == IPv4Address("192.0.2.30"))
        // v17 marked the ended session's binding, and only its.
        let ended = try service.store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT session_id, ended FROM session_address ORDER BY session_id").map { "\($0["session_id"] as String)=\($0["ended"] as Int)" }
        }
        #expect(ended == ["gone=1", "live=0"])
    }

    @Test("an ended session's address bindings are marked ended, and a login reads only the live ones")
    func loginReadsLiveBindingsOnly() throws {
        let (store, _) = try temporaryStore()
        let service = SessionService(store: store, firewall: MemoryFirewall(), sessionMinutes: 60, logger: Logger(label: "test"))
        func bindings() throws -> [(session: String, ended: Bool)] {
            try store.pool.read { db in
                try Row.fetchAll(db, sql: "SELECT session_id, ended FROM session_address ORDER BY rowid").map { ($0["session_id"], $0["ended"]) }
            }
        }
        // Deauthorized, replaced by another method, moved to another address: each leaves its binding, ended.
        try service.login(mac: mac, ipv4: ipv4, method: .terms)
        try service.deauthorize(mac: mac)
        let first = try service.login(mac: mac, ipv4: ipv4, method: .terms)
        let second = try service.login(mac: mac, ipv4: ipv4, method: .admin)
        let third = try service.login(mac: mac, ipv4: IPv4Address("192.0.2.21")!, method: .admin)
        #expect(try bindings().count == 4)
        #expect(try bindings().filter { !$0.ended }.map(\.session) == [third.id])
        #expect(try bindings().filter { $0.ended }.map(\.session).suffix(2) == [first.id, second.id])
        // A binding added to a session already ended is ended too.
        try store.pool.write { db in
            try db.execute(sql: "INSERT INTO session_address(session_id, family, address) VALUES (?, 'ipv4', '192.0.2.99')", arguments: [first.id])
        }
        #expect(try bindings().last.map { $0.session == first.id && $0.ended } == true)
        // The login's lookup reads the partial index of live bindings, not an address's whole history.
        let plan = try store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT * FROM session WHERE \(SessionRecords.activeCondition(SessionRecords.holdingMACOrAddress))",
                             arguments: [mac.description, "ipv4", ipv4.description]).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("USING INDEX session_address_live") }, "\(plan)")
        // And still finds the live holder of an address, from another device.
        let other = try service.login(mac: MACAddress("02:00:00:00:00:bb")!, ipv4: IPv4Address("192.0.2.21")!, method: .terms)
        #expect(try service.session(id: third.id)?.endReason == .addressReused)
        #expect(try service.activeSessions().map(\.id) == [other.id])
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
        #expect(try firewall.counters()[.v4(ipv4)] == .zero)
        #expect(try service.activeSession(mac: mac)?.bytesDown == 50_000)
        firewall.addTraffic(ipv4, up: 234, down: 6_789)
        let ended = try service.deauthorize(mac: mac)
        #expect(ended.bytesUp == 1_234)
        #expect(ended.bytesDown == 56_789)
        // A new session of the same device starts from zero.
        #expect(try service.login(mac: mac, ipv4: ipv4, method: .terms).bytesDown == 0)
    }

    @Test("the kernel gets each live session's addresses in the order they were bound, with the whole seconds left")
    func reconcileGivesTheRemainingTime() throws {
        let (store, _) = try temporaryStore()
        let clock = TestClock()
        let firewall = MemoryFirewall()
        let sessions = SessionService(store: store, firewall: firewall, sessionMinutes: 60, logger: Logger(label: "t"), now: { clock.now })
        #expect(try sessions.restore() == 0)
        let v6 = IPAddress("2001:db8:1::20")!
        try sessions.login(mac: mac, ipv4: ipv4, method: .terms)
        try sessions.login(mac: mac, address: v6, method: .terms)  // the same session: its second address
        clock.advance(600.4)
        try firewall.teardown()
        try sessions.reconcile()
        #expect(firewall.devices.sorted { $0.address < $1.address } == [AuthorizedDevice(mac: mac, ipv4: ipv4, timeout: .seconds(2999)),
                                                                         AuthorizedDevice(mac: mac, address: v6, timeout: .seconds(2999))])
        #expect(try sessions.activeSession(mac: mac)?.device.addresses == [.v4(ipv4), v6])
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
