import Firewall
import Foundation
import Lab
import Logging
import Testing
@testable import PortalD
@testable import Outbox
@testable import HTTPServer
import Store
import Crypto

@Suite("crypto and form tokens")
struct CryptoTests {
    @Test func hmacMatchesTheGitHubVector() {
        let digest = Crypto.hmacSHA256(key: Array("It's a Secret to Everybody".utf8), message: Array("Hello, World!".utf8))
        #expect(digest.hexString == "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
    }

    @Test func randomBytesDiffer() {
        #expect(Crypto.randomBytes(16) != Crypto.randomBytes(16))
        #expect(Crypto.randomBytes(7).count == 7)
    }

    @Test func formTokens() {
        let token = FormToken(key: Array(repeating: 7, count: 32))
        let issued = Date(timeIntervalSince1970: 1_800_000_000)
        let value = token.issue(purpose: "login", client: "192.0.2.10", at: issued)
        #expect(token.verify(value, purpose: "login", client: "192.0.2.10", at: issued.addingTimeInterval(60)))
        #expect(!token.verify(value, purpose: "login", client: "192.0.2.11", at: issued))
        #expect(!token.verify(value, purpose: "claim", client: "192.0.2.10", at: issued))
        #expect(!token.verify(value, purpose: "login", client: "192.0.2.10", at: issued.addingTimeInterval(5 * 3600)))
        #expect(!FormToken(key: Array(repeating: 8, count: 32)).verify(value, purpose: "login", client: "192.0.2.10", at: issued))
        #expect(!token.verify("AAAA", purpose: "login", client: "192.0.2.10", at: issued))
        var tampered = Array(value)
        tampered[tampered.count - 1] = tampered.last == "A" ? "B" : "A"
        #expect(!token.verify(String(tampered), purpose: "login", client: "192.0.2.10", at: issued))
    }
}

/// The portal's handlers, called directly (the real sockets are in HTTPServerTests and the lab).
@Suite("portal pages and capture")
struct PortalTests {
    func makePortal(timeZone: String = "UTC", branding: Branding = Branding()) throws -> (Portal, (HTTPRequest) -> HTTPResponse, MemoryFirewall) {
        let config = try Config.parse("""
        [site]
        id = "h"
        name = "Hotel <Test>"
        [portal]
        listen = "192.0.2.1:8080"
        public_url = "http://portal.example:8080/"
        lan_interface = "lan0"
        [store]
        path = "x.db"
        """, baseDirectory: "/tmp")
        let (store, _) = try temporaryStore()
        let firewall = MemoryFirewall()
        let sessions = SessionService(store: store, firewall: firewall, sessionMinutes: 60, logger: Logger(label: "t"))
        let pages = try GuestPages(siteName: config.site.name, timeZone: TimeZone(identifier: timeZone)!, branding: branding)
        let portal = Portal(config: config, sessions: sessions, neighbours: StaticNeighbours([Neighbour(address: IPAddress("192.0.2.10")!, mac: MACAddress("02:00:00:00:00:10")!)]),
                            formKey: Array(repeating: 1, count: 32), pages: pages, logger: Logger(label: "t"))
        return (portal, portal.answer, firewall)
    }

    func request(_ method: HTTPMethod, _ target: String, host: String? = "portal.example:8080", form: String? = nil, client: String = "192.0.2.10") -> HTTPRequest {
        var headers = HTTPHeaders()
        if let host { headers.add("Host", host) }
        if form != nil { headers.add("Content-Type", "application/x-www-form-urlencoded") }
        return HTTPRequest(method: method, target: target, headers: headers, body: Array((form ?? "").utf8), clientAddress: client)
    }

    func text(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    func csrf(_ html: String) throws -> String {
        let range = try #require(html.range(of: #"name="csrf" value="[^"]+""#, options: .regularExpression))
        return String(html[range].split(separator: "\"")[3])
    }

    @Test func requestsForOtherHostsAreRedirected() throws {
        let (portal, handle, _) = try makePortal()
        let response = handle(request("GET", "/hotspot-detect.html?a=b", host: "captive.apple.com"))
        #expect(response.status == 302)
        #expect(response.headers["location"] == "http://portal.example:8080/?url=http%3A%2F%2Fcaptive.apple.com%2Fhotspot-detect.html%3Fa%3Db")
        // The body links to the same place, with no words to translate.
        let location = try #require(response.headers["location"])
        #expect(text(response) == "<a href=\"\(location)\">\(location)</a>\n")
        #expect(handle(request("HEAD", "/a%20b", host: "example.com")).headers["location"] == "http://portal.example:8080/?url=http%3A%2F%2Fexample.com%2Fa%2520b")
        #expect(handle(request("GET", "/", host: nil)).status == 302)
        #expect(handle(request("POST", "/submit", host: "example.com")).headers["location"] == "http://portal.example:8080/")
        // The portal itself, by name or by its listen address.
        #expect(portal.isForPortal(request("GET", "/", host: "PORTAL.example:8080")))
        #expect(portal.isForPortal(request("GET", "/", host: "192.0.2.1:8080")))
        #expect(!portal.isForPortal(request("GET", "/", host: "portal.example")))
        #expect(!portal.isForPortal(request("GET", "/", host: "portal.example:80")))
        #expect(!portal.isForPortal(request("GET", "/", host: "portal.example:8080x")))
        #expect(!portal.isForPortal(request("GET", "/", host: "xportal.example:8080")))
    }

    @Test("a portal on port 80 is recognised with and without the port")
    func portalOnPort80() {
        let redirect = CaptiveRedirect(publicURL: URL(string: "http://Wifi.Hotel.example")!, captureAddress: "192.0.2.1",
                                       listen: ListenAddress(host: "0.0.0.0", port: 80))
        #expect(redirect.home == "http://Wifi.Hotel.example/")
        for host in ["wifi.hotel.example", "WIFI.hotel.example:80", "192.0.2.1", "192.0.2.1:80"] {
            #expect(redirect.isPortal(host: host), "\(host)")
        }
        for host in ["wifi.hotel.example:8080", "hotel.example", "192.0.2.10", "[2001:db8::1]", "", ":80"] {
            #expect(!redirect.isPortal(host: host), "\(host)")
        }
        let post = redirect.response(host: "example.com", target: "/form", method: .post)
        #expect(post.headers["location"] == "http://Wifi.Hotel.example/")
        #expect(String(decoding: post.body, as: UTF8.self) == "<a href=\"http://Wifi.Hotel.example/\">http://Wifi.Hotel.example/</a>\n")
    }

    @Test func splashEscapesAndKeepsTheDestination() throws {
        let (_, handle, _) = try makePortal()
        let page = handle(request("GET", "/?url=http%3A%2F%2Fexample.com%2F%22%3E%3Cscript%3E"))
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        let html = text(page)
        #expect(html.contains("Hotel &lt;Test&gt;"))
        #expect(html.contains("value=\"http://example.com/&quot;&gt;&lt;script&gt;\""))
        #expect(!html.contains("<script"))
        // Non-http destinations are dropped.
        #expect(text(handle(request("GET", "/?url=javascript%3Aalert(1)"))).contains("name=\"url\" value=\"\""))
    }

    @Test func termsLogin() throws {
        let (_, handle, firewall) = try makePortal()
        let token = try csrf(text(handle(request("GET", "/"))))

        #expect(handle(request("POST", "/login/terms", form: "csrf=\(token)")).status == 400)
        #expect(handle(request("POST", "/login/terms", form: "csrf=nope&accept=yes")).status == 403)
        #expect(handle(request("POST", "/login/terms", form: "csrf=\(token)&accept=yes", client: "192.0.2.99")).status == 403)
        #expect(firewall.devices.isEmpty)
        let online = handle(request("POST", "/login/terms", form: "csrf=\(token)&accept=yes&url=http%3A%2F%2Fexample.com%2F"))
        #expect(online.status == 200)
        #expect(text(online).contains("You are online"))
        #expect(text(online).contains("href=\"http://example.com/\""))
        #expect(firewall.devices.map { $0.mac.description } == ["02:00:00:00:00:10"])
    }

    @Test func unknownDeviceIsRefused() throws {
        let (_, handle, firewall) = try makePortal()
        let token = try csrf(text(handle(request("GET", "/", client: "192.0.2.77"))))
        let response = handle(request("POST", "/login/terms", form: "csrf=\(token)&accept=yes", client: "192.0.2.77"))
        #expect(response.status == 400)
        #expect(text(response).contains("Cannot identify your device"))
        #expect(firewall.devices.isEmpty)
    }

    @Test func captiveAPIFollowsRFC8908() throws {
        let (_, handle, _) = try makePortal()
        let before = handle(request("GET", "/api/captive"))
        #expect(before.headers["content-type"] == "application/captive+json")
        let json = try JSONSerialization.jsonObject(with: Data(before.body)) as? [String: Any]
        #expect(json?["captive"] as? Bool == true)
        #expect(json?["user-portal-url"] as? String == "http://portal.example:8080/")
        #expect(json?["seconds-remaining"] == nil)
    }

    @Test("repeated probes get the redirect built once; every URL still gets its own; long URLs are not kept")
    func recentRedirects() throws {
        let capture = CaptiveRedirect(publicURL: URL(string: "http://192.0.2.1:8080/")!, captureAddress: "192.0.2.1",
                                      listen: ListenAddress("192.0.2.1:8080")!)
        let first = capture.response(host: "captive.apple.com", target: "/hotspot-detect.html", method: .get)
        let again = capture.response(host: "captive.apple.com", target: "/hotspot-detect.html", method: .head)
        #expect(first.headers["location"] == "http://192.0.2.1:8080/?url=http%3A%2F%2Fcaptive.apple.com%2Fhotspot-detect.html")
        #expect(again.headers["location"] == first.headers["location"] && again.body == first.body)
        let other = capture.response(host: "captive.apple.com", target: "/other?a=<b>", method: .get)
        #expect(other.headers["location"] == "http://192.0.2.1:8080/?url=http%3A%2F%2Fcaptive.apple.com%2Fother%3Fa%3D%3Cb%3E")
        #expect(capture.response(host: "CAPTIVE.apple.com", target: "/hotspot-detect.html", method: .get).headers["location"]?
            .contains("CAPTIVE.apple.com") == true, "the host as the guest wrote it, not another guest's spelling")
        // Past the capacity the cache starts again, and every answer is still right.
        for number in 0..<(RecentRedirects.capacity + 10) {
            #expect(capture.response(host: "h\(number).example", target: "/", method: .get).headers["location"]?.hasSuffix("h\(number).example%2F") == true)
        }
        let long = "/" + String(repeating: "x", count: RecentRedirects.longest)
        #expect(capture.response(host: "example.com", target: long, method: .get).headers["location"]?.hasSuffix(String(repeating: "x", count: 20)) == true)
        #expect(capture.response(host: "example.com", target: "/", method: .post).headers["location"] == "http://192.0.2.1:8080/", "a POST keeps no destination")
    }

}
