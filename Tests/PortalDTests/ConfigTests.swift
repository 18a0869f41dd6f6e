import Foundation
import Lab
import Testing
@testable import PortalD
import Arrivals
@testable import Outbox
@testable import HTTPServer
import Store
import Crypto
import Logging

@Suite("configuration")
struct ConfigTests {
    let valid = """
    [site]
    id = "hotel-1"
    name = "Hotel One"
    [portal]
    listen = "192.0.2.1:8080"
    public_url = "http://192.0.2.1:8080/"
    lan_interface = "br-lan"
    [store]
    path = "state/portald.db"
    """

    func parse(_ text: String, environment: [String: String] = [:]) throws -> Config {
        try Config.parse(text, baseDirectory: "/etc/portald", environment: environment)
    }

    func error(_ text: String, environment: [String: String] = [:]) -> String {
        do {
            _ = try parse(text, environment: environment)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func defaultsAndResolvedPaths() throws {
        let config = try parse(valid)
        #expect(config.site.id == "hotel-1")
        #expect(config.portal.sessionMinutes == 1440)
        #expect(config.portal.captureAddress == "192.0.2.1")
        #expect(config.firewall.backend == .nftables)
        #expect(config.firewall.table == "portald")
        #expect(config.store.path == "/etc/portald/state/portald.db")
        #expect(config.admin.listen == ListenAddress(host: "127.0.0.1", port: 8081))
        #expect(config.admin.tokenFile == "/etc/portald/state/admin.token")
        #expect(config.log.level == "info")
        #expect(config.store.synchronous == .full)
        #expect(config.firewall.reconcileSeconds == 30)
        #expect(config.arrivals.publicURL.absoluteString == "http://192.0.2.1:8080/", "links default to the portal")
    }

    @Test("[arrivals] public_url: where check-in links point; must be an http(s) URL")
    func arrivalsURL() throws {
        #expect(try parse(valid + "\n[arrivals]\npublic_url = \"https://checkin.example.com/h1\"").arrivals.publicURL.absoluteString
                == "https://checkin.example.com/h1")
        #expect(error(valid + "\n[arrivals]\npublic_url = \"checkin.example.com\"").contains("[arrivals] public_url: \"checkin.example.com\" is not an http(s) URL"))
        #expect(error(valid + "\n[arrivals]\npublicurl = \"https://x.example.com\"").contains("[arrivals] publicurl: unknown key"))
    }

    @Test("[arrivals] registration: a country's profile with the operator's changes; bad names and values are named")
    func registration() throws {
        #expect(try parse(valid).arrivals.registration.name == "basic")
        let spain = try parse(valid + "\n[arrivals]\nregistration = \"es\"\n[arrivals.fields]\nsecond_surname = \"hidden\"\nplace_of_birth = \"required\"")
        #expect(spain.arrivals.registration.name == "es" && !spain.arrivals.registration.fields.contains(.secondSurname)
                && spain.arrivals.registration.condition(of: .placeOfBirth) == .always)
        #expect(error(valid + "\n[arrivals]\nregistration = \"uk\"").contains(#"[arrivals] registration: "uk" is not a registration profile (one of: basic, es, it, de, pt, fr)"#))
        #expect(error(valid + "\n[arrivals.fields]\nshoe_size = \"required\"").contains("[arrivals.fields] shoe_size: not a registration field"))
        #expect(error(valid + "\n[arrivals.fields]\nphone = \"maybe\"").contains(#"[arrivals.fields] phone: "maybe" is not one of "required", "optional", "hidden""#))
        #expect(error(valid + "\n[arrivals.fields]\nlast_name = \"hidden\"").contains("[arrivals.fields] last_name is always required"))
    }

    @Test("[arrivals] WiFi at arrival: on by default until 12:00 + 120 minutes; bad times and flags are named")
    func arrivalWiFi() throws {
        let defaults = try parse(valid).arrivals
        #expect(defaults.wifiAtArrival && defaults.checkoutTime.description == "12:00" && defaults.wifiGraceMinutes == 120)
        let set = try parse(valid + "\n[arrivals]\nwifi_at_arrival = false\ncheckout_time = \"09:30\"\nwifi_grace_minutes = 0").arrivals
        #expect(!set.wifiAtArrival && set.checkoutTime.hour == 9 && set.checkoutTime.minute == 30 && set.wifiGraceMinutes == 0)
        #expect(error(valid + "\n[arrivals]\ncheckout_time = \"24:00\"").contains(#"[arrivals] checkout_time: "24:00" is not a time of day like "11:00""#))
        #expect(error(valid + "\n[arrivals]\ncheckout_time = \"9:30\"").contains("[arrivals] checkout_time"))
        #expect(error(valid + "\n[arrivals]\nwifi_at_arrival = \"yes\"").contains("[arrivals] wifi_at_arrival: expected true or false"))
        #expect(error(valid + "\n[arrivals]\nwifi_grace_minutes = -1").contains("[arrivals] wifi_grace_minutes: -1 is out of range"))
        #expect(defaults.wifiDevicesPerGuest == 3)
        #expect(error(valid + "\n[arrivals]\nwifi_devices_per_guest = 0").contains("[arrivals] wifi_devices_per_guest: 0 is out of range (1–20)"))
    }

    @Test("[arrivals] listen and trusted_proxies: off by default; addresses checked")
    func arrivalsListener() throws {
        #expect(try parse(valid).arrivals.listen == nil)
        let set = try parse(valid + "\n[arrivals]\nlisten = \"192.0.2.1:8443\"\ntrusted_proxies = [\"192.0.2.5\", \"2001:DB8::5\"]").arrivals
        #expect(set.listen?.port == 8443 && set.trustedProxies == ["192.0.2.5", "2001:db8::5"])
        #expect(error(valid + "\n[arrivals]\ntrusted_proxies = [\"proxy.example\"]").contains(#"[arrivals] trusted_proxies: "proxy.example" is not an IPv4 or IPv6 address"#))
        #expect(error(valid + "\n[arrivals]\nlisten = \"8443\"").contains("[arrivals] listen"))
    }

    @Test("every bad key is named", arguments: [
        ("[site]\nid = \"x\"\nname = \"y\"", "missing section [portal]"),
        ("", "missing section [site]"),
        ("[site\nid=", "TOML syntax error at line 1"),
    ])
    func structuralErrors(text: String, expected: String) {
        #expect(error(text).contains(expected))
    }

    @Test("wrong values name their key", arguments: [
        ("session_minutes = \"long\"", "[portal] session_minutes: expected an integer, got string"),
        ("session_minutes = 0", "[portal] session_minutes: 0 is out of range"),
        ("sesion_minutes = 10", "[portal] sesion_minutes: unknown key"),
        ("threads = 0", "[portal] threads: 0 is out of range"),
    ])
    func portalErrors(line: String, expected: String) {
        let text = valid.replacingOccurrences(of: "[store]", with: "\(line)\n[store]")
        #expect(error(text).contains(expected), "\(error(text))")
    }

    @Test("[portal] listen_ipv6: the gateway's own IPv6 address on the LAN, or nothing")
    func listenIPv6() throws {
        let with = { (value: String) in self.valid.replacingOccurrences(of: "lan_interface = \"br-lan\"\n", with: "lan_interface = \"br-lan\"\nlisten_ipv6 = \"\(value)\"\n") }
        #expect(try Config.parse(valid, baseDirectory: "/etc/portald").portal.listenIPv6 == nil)
        #expect(try Config.parse(with("[2001:db8:1::1]:8080"), baseDirectory: "/etc/portald").portal.listenIPv6 == ListenAddress(host: "2001:db8:1::1", port: 8080))
        for bad in ["[::]:8080", "[::1]:8080", "[fe80::1]:8080", "[ff02::1]:8080", "[::ffff:192.0.2.1]:8080", "192.0.2.1:8080"] {
            #expect(error(with(bad)).contains("[portal] listen_ipv6: \"\(bad)\" must be the gateway's IPv6 address on the LAN"), "\(bad)")
        }
        #expect(error(with("2001:db8:1::1")).contains("[portal] listen_ipv6: \"2001:db8:1::1\" is not host:port"))
    }

    @Test func otherErrors() {
        #expect(error(valid.replacingOccurrences(of: "192.0.2.1:8080\"\npublic", with: "192.0.2.1\"\npublic")).contains("[portal] listen: \"192.0.2.1\" is not host:port"))
        #expect(error(valid.replacingOccurrences(of: "http://192.0.2.1:8080/", with: "ftp://x/")).contains("[portal] public_url"))
        #expect(error(valid.replacingOccurrences(of: "lan_interface = \"br-lan\"\n", with: "")).contains("[portal] lan_interface: required"))
        #expect(error(valid + "\n[firewall]\nbackend = \"iptables\"").contains("[firewall] backend: \"iptables\" is not one of \"nftables\", \"none\""))
        #expect(error(valid + "\n[firewall]\ntable = \"bad name\"").contains("[firewall] table"))
        #expect(error(valid + "\n[firewall]\nreconcile_seconds = 0").contains("[firewall] reconcile_seconds: 0 is out of range"))
        #expect(error(valid.replacingOccurrences(of: "[store]\n", with: "[store]\nsynchronous = \"off\"\n"))
            .contains("[store] synchronous: \"off\" is not one of \"full\", \"normal\""))
        #expect(error(valid + "\n[webhook]\nurl = \"x\"").contains("[webhook]: unknown section (did you mean [webhooks]?)"))
        #expect(error(valid.replacingOccurrences(of: "id = \"hotel-1\"", with: "id = \"\"")).contains("[site] id"))
        #expect(error(valid.replacingOccurrences(of: "listen = \"192.0.2.1:8080\"", with: "listen = \"0.0.0.0:8080\"")
            .replacingOccurrences(of: "http://192.0.2.1:8080/", with: "http://portal.example/")).contains("[portal] listen: bind the gateway's LAN IPv4 address"))
    }

    @Test func adminTokens() throws {
        let tokens = valid + """

        [[admin.tokens]]
        name = "pms"
        token_env = "PMS_TOKEN"
        scopes = ["clients:read"]
        """
        let config = try parse(tokens, environment: ["PMS_TOKEN": "0123456789abcdef0123456789abcdef"])
        #expect(config.admin.tokens.first?.token == "0123456789abcdef0123456789abcdef")
        #expect(config.admin.rateLimitPerMinute == 60 && config.admin.failedAuthPerMinute == 10 && config.admin.tokens.first?.rateLimit == nil)
        let limited = try parse(tokens.replacingOccurrences(of: "scopes = [\"clients:read\"]", with: "scopes = [\"clients:read\"]\nrate_limit_per_minute = 600"),
                                environment: ["PMS_TOKEN": "0123456789abcdef0123456789abcdef"])
        #expect(limited.admin.tokens.first?.rateLimit == 600)
        #expect(error(valid + "\n[admin]\nrate_limit_per_minute = 0").contains("[admin] rate_limit_per_minute: 0 is out of range"))
        #expect(error(tokens + "\n" + tokens.dropFirst(valid.count), environment: ["PMS_TOKEN": "0123456789abcdef0123456789abcdef"])
            .contains("#2 name: \"pms\" is used by another token"))
        #expect(config.admin.tokens.first?.scopes == ["clients:read"])
        #expect(error(tokens).contains("[[admin.tokens]] #1 token_env: environment variable PMS_TOKEN is not set"))
        #expect(error(tokens, environment: ["PMS_TOKEN": "short"]).contains("at least 32 characters"))
        #expect(error(tokens, environment: ["PMS_TOKEN": String(repeating: "x", count: 31)]).contains("at least 32 characters"))
        #expect(error(tokens.replacingOccurrences(of: "clients:read", with: "clients:delete"), environment: ["PMS_TOKEN": "0123456789abcdef0123456789abcdef"])
            .contains("unknown scope \"clients:delete\""))
    }

    @Test("the control verbs' reading: a secret this shell cannot read stands unread; the daemon's names it")
    func secretsTheShellCannotRead() async throws {
        let secrets = valid + """

            [[admin.tokens]]
            name = "pms"
            token_env = "PMS_TOKEN"
            scopes = ["clients:read"]

            [[webhooks.endpoints]]
            id = "cloud"
            url = "https://hooks.example/portald"
            secret_file = "/nonexistent/cloud.whsec"
            topics = ["*"]

            [[inbound]]
            id = "pms"
            format = "guest"
            auth = "bearer"
            token_env = "INBOUND_TOKEN"
            """
        #expect(error(secrets).contains("[[webhooks.endpoints]] \"cloud\" secret_file: cannot read /nonexistent/cloud.whsec"))
        let control = try Config.parse(secrets, baseDirectory: "/etc/portald", secretsRequired: false)
        #expect(control.admin.tokens.first?.token == SecretSource.unread && control.webhooks.endpoints.first?.id == "cloud")
        // Such a reading never serves.
        let served = try parse(valid)
        #expect(!control.secretsRead && served.secretsRead)
        await #expect(throws: CLIError.self) { try await Daemon.run(config: control, logger: Logger(label: "t")) }
        // Only what cannot be read stands unread: a secret given, or set here, is read as ever.
        let given = try Config.parse(secrets.replacingOccurrences(of: "secret_file = \"/nonexistent/cloud.whsec\"",
                                                                  with: "secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\""),
                                     baseDirectory: "/etc/portald", environment: ["PMS_TOKEN": String(repeating: "p", count: 32)], secretsRequired: false)
        #expect(given.admin.tokens.first?.token == String(repeating: "p", count: 32))
        #expect(given.webhooks.endpoints.first?.secrets.first?.text == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        // What is wrong in the file is still wrong: neither key, or both, and a short secret given inline.
        #expect(throws: ConfigError.self) {
            try Config.parse(secrets.replacingOccurrences(of: "token_env = \"PMS_TOKEN\"", with: "token = \"short\""), baseDirectory: "/", secretsRequired: false)
        }
        #expect(throws: ConfigError.self) {
            try Config.parse(secrets.replacingOccurrences(of: "token_env = \"PMS_TOKEN\"", with: ""), baseDirectory: "/", secretsRequired: false)
        }
    }

    @Test func loadNamesTheFile() throws {
        let path = Scratch.directory.appendingPathComponent("portald-\(UUID()).toml").path
        try (valid + "\nbogus = 1\n").write(toFile: path, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: ConfigError.self) { try Config.load(path: path) }
        #expect((#expect(throws: ConfigError.self) { try Config.load(path: path) })?.description == "\(path): [store] bogus: unknown key")
        // Must throw: a `do/catch` alone would pass if loading a missing file succeeded.
        let missing = #expect(throws: ConfigError.self) { try Config.load(path: "/nonexistent/portald.toml") }
        #expect(missing?.description == "/nonexistent/portald.toml: cannot read the file (missing or not readable)")
    }

    @Test("config endpoint ids cannot take the API's prefix")
    func reservedEndpointIDs() {
        let text = valid + "\n[[webhooks.endpoints]]\nid = \"we_1\"\nurl = \"https://x.example.com\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\ntopics = [\"*\"]"
        #expect(error(text).contains("ids starting with \"we_\""), "\(error(text))")
    }

    @Test("[[inbound]] sources: every bad key is named")
    func inboundSources() throws {
        func source(_ lines: String) -> String { valid + "\n[[inbound]]\nid = \"pms\"\n" + lines }
        #expect(error(source("secret = \"x\"")).contains("[[inbound]] \"pms\" format: required key is missing"), "\(error(source("secret = \"x\"")))")
        #expect(error(source("format = \"opera\"")).contains("\"opera\" is not one of \"guest\", \"standard\""))
        #expect(error(source("format = \"standard\"\nsecret = \"plain\"")).contains("[[inbound]] \"pms\" secret: a webhook secret must be"))
        #expect(error(source("format = \"guest\"\nauth = \"bearer\"\ntoken = \"short\"")).contains("token: at least 32 characters"))
        #expect(error(source("format = \"guest\"\nsecret = \"0123456789abcdef\"\n[inbound.status_map]\nfour = \"cancelled\"")).contains("rsvStatus numbers"))
        #expect(error(source("format = \"guest\"\nsecret = \"0123456789abcdef\"\n[inbound.status_map]\n4 = \"gone\"")).contains("\"gone\" is not one of"))
        #expect(error(source("format = \"guest\"\nsecret = \"0123456789abcdef\"\n[[inbound]]\nid = \"pms\"\nformat = \"guest\"\nsecret = \"0123456789abcdef\"")).contains("used by two sources"))
        #expect(error(source("format = \"guest\"\nsecret = \"0123456789abcdef\"\n[inbound.status_map]")).contains("map at least one rsvStatus"))
        let parsed = try parse(source("format = \"guest\"\nsecret = \"0123456789abcdef\"\nversion_field = \"lastChange\"\n[inbound.status_map]\n9 = \"no_show\""))
        #expect(parsed.inbound.first?.statusMap == [9: .noShow] && parsed.inbound.first?.versionField == "lastChange")
        #expect(error(valid + "\n[arrivals]\npublic_url = \"https://x.example.com/?a=1\"").contains("has a query or fragment"))
    }

    @Test func listenAddresses() {
        #expect(ListenAddress("[2001:db8::1]:8080") == ListenAddress(host: "2001:db8::1", port: 8080))
        #expect(ListenAddress("127.0.0.1:0") == ListenAddress(host: "127.0.0.1", port: 0))
        #expect(ListenAddress("2001:db8::1:8080") == nil)
        #expect(ListenAddress("host:99999") == nil)
        #expect(ListenAddress(":80") == nil)
    }

    @Test("the shipped example configs are valid, with and without their webhook section")
    func shippedExamples() throws {
        let configDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config")
        let dev = try Config.load(path: configDirectory.appendingPathComponent("dev.toml").path)
        #expect(dev.firewall.backend == .none)
        let example = try String(contentsOf: configDirectory.appendingPathComponent("portald.example.toml"), encoding: .utf8)
        #expect(try Config.parse(example, baseDirectory: "/etc/portald").portal.lanInterface == "br-lan")
        // Uncomment the webhook section, with its secret inline rather than in a file.
        let uncommented = example.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("# [") || line.hasPrefix("# ") && line.contains(" = ") && !line.hasPrefix("# #") else { return String(line) }
            return String(line.dropFirst(2))
        }.joined(separator: "\n")
            .replacingOccurrences(of: "secret_file = \"/etc/portald/cloud.whsec\"", with: "secret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"")
            .replacingOccurrences(of: "token_file = \"/etc/portald/pms.token\"", with: "token = \"0123456789abcdef0123456789abcdef\"")
            .replacingOccurrences(of: "token_file = \"/etc/portald/guest-pms.token\"", with: "token = \"\(String(repeating: "g", count: 40))\"")
        let config = try Config.parse(uncommented, baseDirectory: "/etc/portald",
                                      environment: ["PORTALD_CLOUD_INBOUND_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
        #expect(config.inbound.map(\.id) == ["guest-pms", "cloud"] && config.inboundListen?.port == 8082)
        #expect(config.inbound.first?.statusMap[2] == .inHouse && config.arrivals.publicURL.host == "checkin.hotel.example.com")
        #expect(config.webhooks.endpoints.map(\.id) == ["cloud"])
        #expect(config.webhooks.endpoints.first?.topics == ["wifi.*", "arrival.*"])
        #expect(config.admin.tokens.map(\.name) == ["pms-integration"])
    }
}
