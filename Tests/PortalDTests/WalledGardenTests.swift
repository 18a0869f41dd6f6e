import Firewall
import Foundation
import Logging
import Testing
@testable import PortalD

/// The walled garden's configuration, its host names' answers and their refresh.
@Suite("walled garden")
struct WalledGardenTests {
    @Test("walled_garden: addresses, networks and host names, each bad entry named; the dnsmasq line")
    func config() throws {
        let base = gatewayConfig(sections: "[firewall]\n")
        let garden = try Config.parse(base + #"walled_garden = ["203.0.113.0/24", "198.51.100.7", "2001:db8:2::/64", "Pay.Example.com"]"#,
                                      baseDirectory: "/etc/portald").firewall.walledGarden
        #expect(garden.networks.map(\.description) == ["203.0.113.0/24", "198.51.100.7", "2001:db8:2::/64"])
        #expect(garden.hosts == ["pay.example.com"])
        #expect(garden.dnsmasqLine(table: "portald") == "nftset=/pay.example.com/4#inet#portald#garden_dns4,6#inet#portald#garden_dns6")
        #expect(try Config.parse(base, baseDirectory: "/etc/portald").firewall.walledGarden.dnsmasqLine(table: "portald") == nil)
        let fqdn = try Config.parse(base + #"walled_garden = ["pay.example.com.", "pay.example.com", "2001:db8::/32"]"#, baseDirectory: "/etc/portald")
        #expect(fqdn.firewall.walledGarden.hosts == ["pay.example.com"], "a trailing dot is dropped, a repeat is one")
        for (entry, message) in [("203.0.113.5/24", "its host bits must be zero"), ("0.0.0.0/4", "opens too much before login"),
                                 ("2000::/8", "a prefix of at least /16"),
                                 ("pay_example.com", "is not an address, a network"), ("localhost", "is not an address, a network"),
                                 ("192.0.2.300", "is not an address, a network"), ("-pay.example.com", "is not an address, a network")] {
            let error = configError(base + "walled_garden = [\"\(entry)\"]")
            #expect(error.contains("[firewall] walled_garden: \"\(entry)\"") && error.contains(message), "\(error)")
        }
    }

    @Test("a DNS answer's A and AAAA records with their TTLs, through compressed names and a CNAME")
    func answerParsing() {
        var message: [UInt8] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 0]
        message += [3] + Array("pay".utf8) + [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0, 1, 0, 1]
        message += [0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 3] + Array("cdn".utf8) + [0xc0, 0x10]  // CNAME, skipped
        message += [0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51, 100, 3]  // A, TTL 60
        message += [0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 1, 0x2c, 0, 16, 0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [3]  // AAAA, TTL 300
        let records = HostResolver.records(in: message).map { "\($0.0) \($0.1)" }
        #expect(records == ["198.51.100.3 60", "2001:db8::3 300"])
        #expect(HostResolver.records(in: Array(message.prefix(40))).isEmpty, "a cut answer gives what it holds, never a crash")
        #expect(HostResolver.records(in: []).isEmpty)
        #expect(HostResolver.records(in: Array(message.dropLast(5))).map { "\($0.0)" } == ["198.51.100.3"], "cut inside a record's data")
        var lying = message
        lying[6] = 0xff; lying[7] = 0xff  // 65 535 answers claimed
        #expect(HostResolver.records(in: lying).count == 2)
    }

    @Test("hosts are resolved when due: their TTL (30 s to 1 h) decides; a failure is tried again in a minute; addresses stay their TTL plus 5 minutes")
    func refresh() throws {
        let firewall = MemoryFirewall()
        let answers = AnswerBook()
        let hosts = GardenHosts(hosts: ["pay.example.com", "down.example.com"], firewall: firewall, logger: Logger(label: "t"),
                                resolve: { host in try answers.answer(host) })
        let start = ContinuousClock.now
        #expect(hosts.refresh(now: start) == 2)
        // TTLs kept within 30 s to 1 h, plus the 5-minute margin.
        #expect(firewall.gardenAddresses == [IPAddress("198.51.100.3")!: .seconds(330), IPAddress("2001:db8::3")!: .seconds(3900)])
        #expect(answers.asked == ["pay.example.com", "down.example.com"])
        #expect(hosts.refresh(now: start + .seconds(29)) == 0 && answers.asked.count == 2, "nothing due before 30 s")
        _ = hosts.refresh(now: start + .seconds(31))
        #expect(answers.asked.suffix(1) == ["pay.example.com"], "the shortest TTL (10 s) counts as 30 s; the failed host waits a minute")
        _ = hosts.refresh(now: start + .seconds(61))
        #expect(answers.asked.suffix(2) == ["pay.example.com", "down.example.com"])
    }
}

/// Answers for the refresh test: pay.example.com has two addresses (TTL 10 s and 2 h), down.example.com fails.
final class AnswerBook: @unchecked Sendable {  // used from the test's one thread
    var asked: [String] = []
    func answer(_ host: String) throws -> [(address: IPAddress, ttl: Int)] {
        asked.append(host)
        guard host == "pay.example.com" else { throw HostResolver.Failure(description: "\(host): no such host") }
        return [(IPAddress("198.51.100.3")!, 10), (IPAddress("2001:db8::3")!, 7200)]
    }
}
