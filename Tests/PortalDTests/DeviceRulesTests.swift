import Firewall
import Foundation
import Logging
import Store
import Testing
@testable import HTTPServer
@testable import PortalD

/// Trusted and blocked devices: stored, handed to the firewall, enforced by the session
/// service and the guest pages, and served by the admin API.
@Suite("trusted and blocked devices")
struct DeviceRulesTests {
    let phone = MACAddress("02:00:00:00:00:10")!
    let printer = MACAddress("02:00:00:00:00:50")!

    func make() throws -> (SessionService, MemoryFirewall, String) {
        let (store, path) = try temporaryStore()
        let firewall = MemoryFirewall()
        try firewall.install(devices: [])
        return (SessionService(store: store, firewall: firewall, sessionMinutes: 60, logger: Logger(label: "t")), firewall, path)
    }

    @Test("block ends the session and refuses logins; trust and block are kept across restarts and reach the kernel's sets")
    func blockAndTrust() throws {
        let (sessions, firewall, path) = try make()
        let session = try sessions.login(mac: phone, ipv4: IPv4Address("192.0.2.10")!, method: .terms)
        let (rule, ended, previous) = try sessions.setRule(.blocked, for: phone, note: "abuse report 12")
        #expect(rule.kind == .blocked && rule.note == "abuse report 12" && previous == nil)
        #expect(ended?.id == session.id && ended?.endReason == .blocked)
        #expect(firewall.devices.isEmpty)
        #expect { try sessions.login(mac: phone, ipv4: IPv4Address("192.0.2.10")!, method: .terms) } throws: { ($0 as? SessionError)?.kind == .blocked }
        // A new note keeps when the block began.
        #expect(try sessions.setRule(.blocked, for: phone, note: "abuse report 13").rule.createdAt == rule.createdAt)
        try sessions.setRule(.trusted, for: printer, note: "front desk printer")
        #expect(firewall.installedRules == DeviceRules(trusted: [printer], blocked: [phone]))
        // A new process on the same database: the rules come back before the table is installed.
        let restarted = SessionService(store: try Store(path: path, schemas: Daemon.schemas), firewall: MemoryFirewall(),
                                       sessionMinutes: 60, logger: Logger(label: "t"))
        try restarted.loadDeviceRules()
        #expect(restarted.isBlocked(phone) && !restarted.isBlocked(printer))
        #expect(try restarted.deviceRules().map { "\($0.mac) \($0.kind.rawValue) \($0.note ?? "")" }
                == ["02:00:00:00:00:10 blocked abuse report 13", "02:00:00:00:00:50 trusted front desk printer"])
        // Trusting a blocked device replaces its rule; removing it makes it a guest like any other.
        #expect(try sessions.setRule(.trusted, for: phone, note: nil).previous == .blocked)
        #expect(!sessions.isBlocked(phone) && firewall.installedRules.trusted == [phone, printer])
        #expect { try sessions.removeRule(for: phone, only: .blocked) } throws: { ($0 as? SessionError)?.kind == .mismatch }
        #expect(try sessions.removeRule(for: phone, only: .trusted).kind == .trusted)
        #expect { try sessions.removeRule(for: phone) } throws: { ($0 as? SessionError)?.kind == .notFound }
        #expect(try sessions.login(mac: phone, ipv4: IPv4Address("192.0.2.10")!, method: .terms).isActive)
        // Trusting a device ends the session it no longer needs.
        #expect(try sessions.setRule(.trusted, for: phone, note: nil).ended?.endReason == .deauthorized)
    }

    @Test("a note is one line of at most 200 characters")
    func notes() throws {
        let (sessions, _, _) = try make()
        for bad in ["two\nlines", String(repeating: "x", count: 201), "tab\there", "bell\u{7}", "para\u{2029}graph"] {
            #expect { try sessions.setRule(.trusted, for: printer, note: bad) } throws: { ($0 as? SessionError)?.kind == .invalid }
        }
        #expect(try sessions.setRule(.trusted, for: printer, note: String(repeating: "é", count: 200)).rule.note?.count == 200)
        #expect(try sessions.setRule(.trusted, for: printer, note: "").rule.note == nil)
    }

    @Test("the admin API: PUT, GET and DELETE /api/v1/device-rules, each bad request named")
    func adminAPI() throws {
        let (sessions, _, _) = try make()
        let (store, _) = try temporaryStore()
        let api = try makeAdminAPI(store: store, credentials: [AdminCredential(name: "it", secret: Array("secret-token".utf8), scopes: [AdminScope.all])],
                                   clients: SessionClientRepository(sessions: sessions, neighbours: StaticNeighbours()))
        func call(_ method: HTTPMethod, _ path: String, _ body: String = "") -> (status: Int, json: [String: Any]) {
            let response = api.answer(HTTPRequest(method: method, target: path, headers: HTTPHeaders([("Authorization", "Bearer secret-token")]),
                                                  body: Array(body.utf8), clientAddress: "127.0.0.1"))
            return (response.status, (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:])
        }
        try sessions.login(mac: phone, ipv4: IPv4Address("192.0.2.10")!, method: .terms)
        let blocked = call(.put, "/api/v1/device-rules/02-00-00-00-00-10", #"{"rule": "blocked", "note": "abuse"}"#)
        #expect(blocked.status == 200 && blocked.json["rule"] as? String == "blocked" && blocked.json["mac"] as? String == "02:00:00:00:00:10")
        #expect(blocked.json["ended_session"] is String)
        #expect(call(.put, "/api/v1/device-rules/02:00:00:00:00:50", #"{"rule": "trusted"}"#).json["note"] is NSNull)
        let list = call(.get, "/api/v1/device-rules").json["device_rules"] as? [[String: Any]]
        #expect(list?.map { $0["mac"] as? String ?? "" } == ["02:00:00:00:00:10", "02:00:00:00:00:50"])
        for (body, code) in [(#"{"rule": "allowed"}"#, "invalid_rule"), (#"{"rule": "trusted", "colour": 1}"#, "unknown_field"),
                             (#"{"note": "x"}"#, "invalid_rule"), ("[]", "invalid_json"), (#"{"rule": "trusted", "note": 5}"#, "invalid_note"),
                             (#"{"rule": "trusted", "note": "a\nb"}"#, "invalid_request")] {
            let answer = call(.put, "/api/v1/device-rules/02:00:00:00:00:50", body)
            #expect(answer.status == 400 && (answer.json["error"] as? [String: Any])?["code"] as? String == code, "\(body)")
        }
        #expect(call(.put, "/api/v1/device-rules/not-a-mac", #"{"rule": "trusted"}"#).status == 400)
        #expect(call(.put, "/api/v1/device-rules/02:00:00:00:00:10", #"{"rule": "trusted"}"#).json["previous_rule"] as? String == "blocked")
        #expect(call(.put, "/api/v1/device-rules/02:00:00:00:00:10", #"{"rule": "blocked"}"#).json["previous_rule"] as? String == "trusted")
        #expect(call(.delete, "/api/v1/device-rules/02:00:00:00:00:50?rule=blocked").status == 409)
        #expect(call(.delete, "/api/v1/device-rules/02:00:00:00:00:50?rule=neither").status == 400)
        #expect(call(.delete, "/api/v1/device-rules/02:00:00:00:00:50?rule=trusted").json["rule"] as? String == "trusted")
        #expect(call(.delete, "/api/v1/device-rules/02:00:00:00:00:50").status == 404)
        // A blocked device cannot be let on by staff either.
        let auth = call(.post, "/api/v1/clients/02:00:00:00:00:10/auth", #"{"ipv4": "192.0.2.10"}"#)
        #expect(auth.status == 409 && (auth.json["error"] as? [String: Any])?["code"] as? String == "device_blocked")
    }

    @Test("firewall show: sets and sizes, rules, the last reconciliation and the last repair; a missing table says so")
    func firewallStatus() throws {
        let (sessions, firewall, _) = try make()
        #expect(try sessions.restore() == 0)
        try sessions.login(mac: phone, ipv4: IPv4Address("192.0.2.10")!, method: .terms)
        try sessions.setRule(.trusted, for: printer, note: nil)
        let status = FirewallStatus(sessions: sessions, backend: "nftables", table: "portald")
        var view = try status.view()
        #expect(view.installed && view.trusted == ["02:00:00:00:00:50"] && view.blocked.isEmpty)
        #expect(view.sets.first { $0.name == "authorized" }?.elements == 1 && view.sets.first { $0.name == "trusted" }?.elements == 1)
        #expect(view.lastRepair?.cause == "start" && view.lastRepair?.reinstalled == true)
        firewall.tamper(add: [AuthorizedDevice(mac: MACAddress("02:00:00:00:00:66")!, ipv4: IPv4Address("192.0.2.66")!, timeout: nil)])
        try sessions.reconcile()
        view = try status.view()
        #expect(view.lastRepair?.removed == ["02:00:00:00:00:66 . 192.0.2.66"] && view.lastReconcile?.cause == "the timer")
        try sessions.reconcile()
        #expect(try status.view().lastReconcile?.removed == [] && (try status.view().lastRepair?.removed.count) == 1, "the repair stays the last one")
        try firewall.teardown()
        view = try status.view()
        #expect(!view.installed && view.sets.isEmpty)
        let text = FirewallCommand.Show.render(view)
        #expect(text.hasPrefix("table inet portald: MISSING") && text.contains("trusted: 02:00:00:00:00:50"), "\(text)")
        // A repair of 150 elements names the first 100 and counts them all.
        let many = (0..<150).map { DeviceKey(mac: MACAddress(bytes: [2, 0, 0, 0, 1, UInt8($0)])!, ipv4: IPv4Address(octets: [192, 0, 2, UInt8($0)])!) }
        let record = SessionService.ReconcileRecord(at: Date(), cause: "the timer", repair: Repair(added: many, removed: [many[0]]), duration: .milliseconds(3))
        let repair = FirewallStatusView.ReconcileView(record)
        #expect(repair.added.count == 100 && repair.addedCount == 150 && repair.removed.count == 1 && repair.removedCount == 1)
        let line = FirewallCommand.Show.describe(repair)
        #expect(line.contains("added 02:00:00:00:01:00 . 192.0.2.0, ") && line.contains(" and 50 more; removed 02:00:00:00:01:00 . 192.0.2.0"), "\(line)")
    }

    @Test("a blocked device meets the blocked page, on the splash and at login, in its language")
    func blockedPage() throws {
        let config = try Config.parse("""
        [site]
        id = "h"
        name = "Hotel"
        [portal]
        listen = "192.0.2.1:8080"
        public_url = "http://portal.example:8080/"
        lan_interface = "lan0"
        [store]
        path = "x.db"
        """, baseDirectory: "/tmp")
        let (sessions, _, _) = try make()
        let pages = try GuestPages(siteName: "Hotel", timeZone: .gmt)
        let portal = Portal(config: config, sessions: sessions, neighbours: StaticNeighbours([Neighbour(address: IPAddress("192.0.2.10")!, mac: phone)]),
                            formKey: Array(repeating: 1, count: 32), pages: pages, logger: Logger(label: "t"))
        func request(_ method: HTTPMethod, _ target: String, form: String = "") -> HTTPResponse {
            portal.answer(HTTPRequest(method: method, target: target, headers: HTTPHeaders([("Host", "portal.example:8080"),
                                      ("Content-Type", "application/x-www-form-urlencoded")]), body: Array(form.utf8), clientAddress: "192.0.2.10"))
        }
        let splash = request(.get, "/")
        let token = try #require(String(decoding: splash.body, as: UTF8.self).firstMatch(of: /name="csrf" value="([^"]+)"/)?.1)
        try sessions.setRule(.blocked, for: phone, note: nil)
        for response in [request(.get, "/?lang=de"), request(.post, "/login/terms?lang=de", form: "csrf=\(token)&accept=yes")] {
            let page = String(decoding: response.body, as: UTF8.self)
            #expect(response.status == 403)
            #expect(page.contains("Dieses Gerät kann das WLAN hier nicht nutzen") && !page.contains("csrf"), "\(page)")
        }
        try sessions.removeRule(for: phone)
        #expect(request(.get, "/").status == 200)
    }
}
