import Firewall
import Foundation
import Logging
import Synchronization
import Testing
@testable import PortalD

/// SQLite is the desired state and the kernel follows: changes commit first, a
/// failed apply or an edit behind portald's back is repaired by the reconciler.
@Suite("the kernel follows the sessions")
struct ReconcilerTests {
    let mac = MACAddress("02:00:00:00:00:aa")!
    let other = MACAddress("02:00:00:00:00:bb")!
    let ipv4 = IPv4Address("192.0.2.20")!

    func make(_ firewall: any Firewall) throws -> (SessionService, TestClock) {
        let (store, _) = try temporaryStore()
        let clock = TestClock()
        return (SessionService(store: store, firewall: firewall, sessionMinutes: 60, logger: Logger(label: "test"), now: { clock.now }), clock)
    }

    @Test("a login the kernel refuses is kept as desired, fails for now, and is applied once the kernel recovers")
    func refusedLoginIsAppliedLater() throws {
        let firewall = FaultyFirewall()
        let (service, _) = try make(firewall)
        try firewall.memory.install(devices: [])
        firewall.refusing = true
        #expect(throws: SessionError.self) { try service.login(mac: mac, ipv4: ipv4, method: .terms) }
        let stored = try #require(try service.activeSession(mac: mac), "the committed session is the desired state")
        #expect(firewall.memory.devices.isEmpty)
        // Not online yet: logging in again must not answer "online" while the kernel still refuses.
        #expect(throws: SessionError.self) { try service.login(mac: mac, ipv4: ipv4, method: .terms) }
        // The timer's reconciliation is not held back by the interval after a failure.
        #expect(throws: FirewallError.self) { try service.reconcile(ifOlderThan: .seconds(3600)) }
        firewall.refusing = false
        let repair = try #require(try service.reconcile(ifOlderThan: .seconds(3600)))
        #expect(repair.added == [DeviceKey(mac: mac, ipv4: ipv4)])
        #expect(firewall.memory.devices.map(\.mac) == [mac])
        #expect(try service.login(mac: mac, ipv4: ipv4, method: .terms).id == stored.id)
        // Now repaired, the next timer tick is not due yet.
        #expect(try service.reconcile(ifOlderThan: .seconds(3600)) == nil)
    }

    @Test("a failed apply is repaired at once, so the guest is online when the login returns")
    func failedApplyIsReconciledAtOnce() throws {
        final class FailsOnce: Firewall {
            let memory = MemoryFirewall()
            let failures = Counter()
            func install(devices: [AuthorizedDevice]) throws { try memory.install(devices: devices) }
            func update(removing: [DeviceKey], adding: [AuthorizedDevice]) throws {
                if failures.increment() == 1 { throw FirewallError("transient") }
                try memory.update(removing: removing, adding: adding)
            }
            func restore(_ devices: [AuthorizedDevice]) throws { try memory.restore(devices) }
            func state() throws -> FirewallState? { try memory.state() }
            func teardown() throws { try memory.teardown() }
            func counters() throws -> [IPAddress: TrafficCounters] { try memory.counters() }
            func counters(for address: IPAddress) throws -> TrafficCounters? { try memory.counters(for: address) }
            func setDeviceRules(_ rules: DeviceRules) throws { try memory.setDeviceRules(rules) }
            var deviceRules: DeviceRules { memory.deviceRules }
            func inventory() throws -> [(set: String, elements: Int)]? { try memory.inventory() }
            func addGardenAddresses(_ addresses: [(address: IPAddress, timeout: Duration)]) throws { try memory.addGardenAddresses(addresses) }
        }
        let firewall = FailsOnce()
        let (service, _) = try make(firewall)
        try firewall.memory.install(devices: [])
        try service.login(mac: mac, ipv4: ipv4, method: .terms)
        #expect(firewall.memory.devices.map(\.key) == [DeviceKey(mac: mac, ipv4: ipv4)])
    }

    @Test("elements removed or added behind portald's back are repaired both ways, and a missing table is reinstalled")
    func repairsBothWays() throws {
        let firewall = MemoryFirewall()
        let (service, _) = try make(firewall)
        #expect(try service.restore() == 0)
        try service.login(mac: mac, ipv4: ipv4, method: .terms)
        try service.login(mac: other, ipv4: IPv4Address("192.0.2.21")!, method: .admin)
        let stranger = AuthorizedDevice(mac: MACAddress("02:00:00:00:00:cc")!, ipv4: IPv4Address("192.0.2.99")!, timeout: nil)
        firewall.tamper(remove: [other], add: [stranger])
        let repair = try service.reconcile()
        #expect(repair?.added == [DeviceKey(mac: other, ipv4: IPv4Address("192.0.2.21")!)])
        #expect(repair?.removed == [stranger.key])
        #expect(Set(firewall.devices.map(\.mac)) == [mac, other])
        #expect(try service.reconcile()?.isEmpty == true)

        try firewall.teardown()  // `nft flush ruleset`
        let reinstall = try #require(try service.reconcile())
        #expect(reinstall.reinstalled)
        #expect(firewall.isInstalled)
        #expect(Set(firewall.devices.map(\.mac)) == [mac, other])
    }

    @Test("an address taken over by another device ends the old session with its bytes; the new one counts from zero")
    func addressReuseKeepsTrafficApart() throws {
        let firewall = MemoryFirewall()
        let (service, clock) = try make(firewall)
        #expect(try service.restore() == 0)
        let first = try service.login(mac: mac, ipv4: ipv4, method: .terms)
        firewall.addTraffic(ipv4, up: 1_000, down: 10_000)
        clock.advance(60)
        let second = try service.login(mac: other, ipv4: ipv4, method: .terms)
        let ended = try #require(try service.session(id: first.id))
        #expect(ended.endReason == .addressReused)
        #expect(ended.bytesUp == 1_000 && ended.bytesDown == 10_000)
        #expect(firewall.devices.map(\.key) == [DeviceKey(mac: other, ipv4: ipv4)])
        firewall.addTraffic(ipv4, up: 7, down: 70)
        let done = try service.deauthorize(mac: other)
        #expect(done.id == second.id)
        #expect(done.bytesUp == 7 && done.bytesDown == 70)
        #expect(try service.session(id: first.id)?.bytesDown == 10_000, "the first guest's total is final")
    }
}

/// A thread-safe count, for test doubles.
final class Counter: Sendable {
    private let value = Mutex(0)
    func increment() -> Int { value.withLock { $0 += 1; return $0 } }
}
