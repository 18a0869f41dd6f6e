import Firewall
import Foundation
import Logging
import Testing
@testable import PortalD

/// A device's several addresses: the one it logged in from, and those the address
/// watcher binds from the neighbour table (IPv6 privacy addresses, the IPv4 address
/// of a device that logged in over IPv6).
@Suite("sessions: a device's addresses")
struct AddressWatcherTests {
    let phone = MACAddress("02:00:00:00:00:10")!
    let laptop = MACAddress("02:00:00:00:00:20")!

    func make() throws -> (SessionService, MemoryFirewall, TestClock) {
        let (store, _) = try temporaryStore()
        let clock = TestClock()
        let firewall = MemoryFirewall()
        try firewall.install(devices: [])
        return (SessionService(store: store, firewall: firewall, sessionMinutes: 60, logger: Logger(label: "t"), now: { clock.now }), firewall, clock)
    }

    func neighbour(_ address: String, _ mac: MACAddress) -> Neighbour { Neighbour(address: IPAddress(address)!, mac: mac) }

    @Test("new IPv6 addresses of a logged-in MAC are bound and let through; link-local, taken and unknown ones are not")
    func bindsIPv6Addresses() throws {
        let (service, firewall, clock) = try make()
        try service.login(mac: phone, ipv4: IPv4Address("192.0.2.10")!, method: .terms)
        try service.login(mac: laptop, address: IPAddress("2001:db8:1::20")!, method: .terms)
        clock.advance(600)
        let table = [
            neighbour("192.0.2.10", phone), neighbour("2001:db8:1::10", phone), neighbour("2001:db8:1:0:a:b:c:d", phone),
            neighbour("fe80::10", phone),  // never forwarded
            neighbour("2001:db8:1::20", phone),  // the laptop's: stays the laptop's
            neighbour("192.0.2.11", phone),  // the phone has an IPv4 address already
            neighbour("2001:db8:1::30", MACAddress("02:00:00:00:00:30")!),  // no session
        ]
        let bound = try service.bindAddresses(from: table)
        #expect(bound.map(\.description) == ["02:00:00:00:00:10 . 2001:db8:1::10", "02:00:00:00:00:10 . 2001:db8:1:0:a:b:c:d"])
        let session = try #require(try service.activeSession(mac: phone))
        #expect(session.device.addresses.map(\.description) == ["192.0.2.10", "2001:db8:1::10", "2001:db8:1:0:a:b:c:d"])
        // In the kernel with the time the session has left, beside the login's element.
        #expect(firewall.devices.filter { $0.mac == phone }.map { "\($0.address) \($0.timeout!)" }
                == ["192.0.2.10 3600.0 seconds", "2001:db8:1::10 3000.0 seconds", "2001:db8:1:0:a:b:c:d 3000.0 seconds"])
        #expect(try service.bindAddresses(from: table).isEmpty, "nothing new: nothing written")
        // A device that logged in over IPv6 gets its IPv4 address too.
        #expect(try service.bindAddresses(from: [neighbour("192.0.2.20", laptop)]).map(\.description) == ["02:00:00:00:00:20 . 192.0.2.20"])
        #expect(try service.activeSession(mac: laptop)?.device.addresses.map(\.description) == ["2001:db8:1::20", "192.0.2.20"])
    }

    @Test("the session's end takes every address out, and its bytes are the sum of all of them")
    func endCoversEveryAddress() throws {
        let (service, firewall, _) = try make()
        try service.login(mac: phone, ipv4: IPv4Address("192.0.2.10")!, method: .terms)
        try service.bindAddresses(from: [neighbour("2001:db8:1::10", phone)])
        firewall.addTraffic(IPv4Address("192.0.2.10")!, up: 100, down: 1_000)
        firewall.addTraffic(IPAddress("2001:db8:1::10")!, up: 20, down: 300)
        let ended = try service.deauthorize(mac: phone)
        #expect(ended.bytesUp == 120 && ended.bytesDown == 1_300)
        #expect(firewall.devices.isEmpty)
        #expect(try firewall.counters().isEmpty)
    }

    @Test("a login over IPv6 binds that address; the same device and address again keeps the session")
    func loginOverIPv6() throws {
        let (service, firewall, _) = try make()
        let first = try service.login(mac: phone, address: IPAddress("2001:db8:1::10")!, method: .terms)
        #expect(firewall.devices.map(\.key.description) == ["02:00:00:00:00:10 . 2001:db8:1::10"])
        #expect(try service.login(mac: phone, address: IPAddress("2001:db8:1::10")!, method: .terms).id == first.id)
        // Another device on that address (a reused address) ends the first one's session.
        try service.login(mac: laptop, address: IPAddress("2001:db8:1::10")!, method: .terms)
        #expect(try service.session(id: first.id)?.endReason == .addressReused)
    }

    @Test("only confirmed entries are bound; 169.254/16 never; at most 16 IPv6 addresses a session")
    func whatIsBound() throws {
        let (service, _, _) = try make()
        try service.login(mac: laptop, address: IPAddress("2001:db8:1::20")!, method: .terms)
        let stale = Neighbour(address: IPAddress("192.0.2.50")!, mac: laptop, confirmed: false)
        #expect(try service.bindAddresses(from: [stale, neighbour("169.254.7.7", laptop)]).isEmpty)
        let many = (1...20).map { neighbour("2001:db8:1::20:\(String($0, radix: 16))", laptop) }
        #expect(try service.bindAddresses(from: many).count == SessionService.ipv6PerSession - 1)
        #expect(try service.activeSession(mac: laptop)?.device.ipv6.count == SessionService.ipv6PerSession)
    }

    @Test("logins from ever new IPv6 addresses keep the session within the cap: the oldest bound one makes room")
    func loginCap() throws {
        let (service, firewall, _) = try make()
        let first = try service.login(mac: phone, ipv4: IPv4Address("192.0.2.10")!, method: .terms)
        for n in 1...(SessionService.ipv6PerSession + 3) {
            let again = try service.login(mac: phone, address: IPAddress("2001:db8:1::\(String(n, radix: 16))")!, method: .terms)
            #expect(again.id == first.id)
        }
        let session = try #require(try service.activeSession(mac: phone))
        #expect(session.device.ipv6.count == SessionService.ipv6PerSession && session.ipv4 == IPv4Address("192.0.2.10"))
        #expect(session.device.ipv6.first == IPv6Address("2001:db8:1::4") && session.device.ipv6.last == IPv6Address("2001:db8:1::13"))
        #expect(firewall.devices.count == SessionService.ipv6PerSession + 1)
    }

    @Test("an address of a session that has expired but not yet ended is not given to another device")
    func expiredSessionKeepsItsAddresses() throws {
        let (service, _, clock) = try make()
        try service.login(mac: phone, address: IPAddress("2001:db8:1::10")!, method: .terms, minutes: 1)
        try service.login(mac: laptop, ipv4: IPv4Address("192.0.2.20")!, method: .terms)
        clock.advance(120)
        #expect(try service.bindAddresses(from: [neighbour("2001:db8:1::10", laptop)]).isEmpty)
    }

    @Test("the same device from a new address keeps its session; a new kind of login keeps its addresses")
    func sameDevice() throws {
        let (service, firewall, _) = try make()
        let first = try service.login(mac: phone, ipv4: IPv4Address("192.0.2.10")!, method: .terms)
        let again = try service.login(mac: phone, address: IPAddress("2001:db8:1::10")!, method: .terms)
        #expect(again.id == first.id && again.device.addresses.map(\.description) == ["192.0.2.10", "2001:db8:1::10"])
        #expect(firewall.devices.map(\.address.description) == ["192.0.2.10", "2001:db8:1::10"])
        // Finishing check-in replaces the terms session; the device keeps every address.
        let arrival = try service.login(mac: phone, ipv4: IPv4Address("192.0.2.10")!, method: .arrival, subject: .reservation("R-1"))
        #expect(arrival.id != first.id && arrival.device.addresses.map(\.description) == ["192.0.2.10", "2001:db8:1::10"])
        #expect(Set(firewall.devices.map(\.address.description)) == ["192.0.2.10", "2001:db8:1::10"])
    }

    @Test("another device logging in from an address one only had bound takes that address, not the session")
    func boundAddressMoves() throws {
        let (service, firewall, _) = try make()
        let phoneSession = try service.login(mac: phone, ipv4: IPv4Address("192.0.2.10")!, method: .terms)
        try service.bindAddresses(from: [neighbour("2001:db8:1::99", phone)])
        firewall.addTraffic(IPAddress("2001:db8:1::99")!, up: 7, down: 70)
        let laptopSession = try service.login(mac: laptop, address: IPAddress("2001:db8:1::99")!, method: .terms)
        let kept = try #require(try service.session(id: phoneSession.id))
        #expect(kept.isActive && kept.device.addresses.map(\.description) == ["192.0.2.10"])
        #expect(kept.bytesUp == 7 && kept.bytesDown == 70, "what the address counted while it was the phone's stays the phone's")
        #expect(laptopSession.device.addresses.map(\.description) == ["2001:db8:1::99"])
        #expect(firewall.devices.map(\.key.description) == ["02:00:00:00:00:10 . 192.0.2.10", "02:00:00:00:00:20 . 2001:db8:1::99"])
    }

    @Test("restarts restore every bound address")
    func restoreKeepsAddresses() throws {
        let (service, firewall, _) = try make()
        try service.login(mac: phone, ipv4: IPv4Address("192.0.2.10")!, method: .terms)
        try service.bindAddresses(from: [neighbour("2001:db8:1::10", phone)])
        try firewall.teardown()
        #expect(try service.restore() == 1, "one session, with two addresses")
        #expect(Set(firewall.devices.map(\.address.description)) == ["192.0.2.10", "2001:db8:1::10"])
    }
}
