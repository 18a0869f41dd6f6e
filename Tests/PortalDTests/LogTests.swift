import Foundation
import Logging
import Synchronization
import Testing
@testable import PortalD

/// The daemon's log lines: one an event, logfmt, the journal's priority, no secrets,
/// and MACs hashed when the site asks.
@Suite("the log")
struct LogTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
    }

    func logger(journal: Bool, hashMACs: Bool = false, level: Logger.Level = .info, recent: RecentLog? = nil,
                key: [UInt8] = Array("site key".utf8)) -> (Logger, Lines, LogPrivacy) {
        let lines = Lines()
        let privacy = LogPrivacy(hashMACs: hashMACs)
        privacy.useKey(key)
        let handler = JournalLogHandler(label: "portald", settings: .init(level: level), privacy: privacy, recent: recent, journal: journal,
                                        output: { line in lines.lines.withLock { $0.append(line) } })
        return (Logger(label: "portald", factory: { _ in handler }), lines, privacy)
    }

    @Test("one line an event in logfmt; under the journal each line starts with its syslog priority")
    func logfmt() {
        let (log, lines, _) = logger(journal: true)
        log.warning("webhook attempt failed", metadata: ["endpoint": "cloud", "error": "HTTP 500\nsecond line", "attempt": "2", "empty": ""])
        log.info("session started", metadata: ["method": "terms"])
        log.debug("not at info")
        log.error("quote \" and = and \\")
        #expect(lines.all == [
            "<4>level=warning msg=\"webhook attempt failed\" attempt=2 empty=\"\" endpoint=cloud error=\"HTTP 500\\nsecond line\"\n",
            "<6>level=info msg=\"session started\" method=terms\n",
            "<3>level=error msg=\"quote \\\" and = and \\\\\"\n",
        ])
        // An event's error (swift-log's LogEvent.error) is a field too, scrubbed like the rest.
        struct Refused: Error, CustomStringConvertible { var description: String { "refused with Bearer abcdefghijklmnop" } }
        let handler = JournalLogHandler(label: "portald", settings: .init(level: .info), privacy: LogPrivacy(hashMACs: false), recent: nil,
                                        journal: true, output: { line in lines.lines.withLock { $0.append(line) } })
        handler.log(event: LogEvent(level: .error, message: "apply failed", error: Refused(), metadata: nil, source: nil, file: "f", function: "f", line: 1))
        #expect(lines.all.last == "<3>level=error msg=\"apply failed\" error=\"refused with Bearer <redacted>\"\n", "\(lines.all)")
        let (terminal, out, _) = logger(journal: false)
        terminal.notice("device rule set")
        #expect(out.all.first?.hasPrefix("ts=20") == true && out.all.first?.hasSuffix(" level=notice msg=\"device rule set\"\n") == true, "\(out.all)")
    }

    @Test("secrets and tokens are cut out wherever they appear")
    func secrets() {
        let (log, lines, _) = logger(journal: true)
        log.error("failed", metadata: [
            "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "token": "pdt_AbC-123_xyz", "header": "Authorization: Bearer abc.def-ghi",
            "url": "https://user:hunter2@hooks.example.com/x?a=1&token=s3cret&sig=abc", "path": "/arrive/Zm9vYmFyYmF6cXV4cXV1eDEy/details",
            "claim": "/claim/AAAAAAAAAAAAAAAAAAAAAAAA", "step": "/arrive/confirm", "cli": "pdl_Q2xpVG9rZW5TZWNyZXQ",
            "user": "https://tok3n@hooks.example.com/y", "at": "https://u:p@ss@hooks.example.com/z"])
        let line = lines.all.joined()
        for secret in ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "AbC-123_xyz", "abc.def-ghi", "hunter2", "s3cret", "sig=abc", "Zm9vYmFyYmF6cXV4cXV1eDEy", "AAAAAAAAAAAAAAAAAAAAAAAA",
                       "Q2xpVG9rZW5TZWNyZXQ", "tok3n", "p@ss", "u:p"] {
            #expect(!line.contains(secret), "\(secret) in \(line)")
        }
        #expect(line.contains("whsec_<redacted>") && line.contains("pdt_<redacted>") && line.contains("Bearer <redacted>"))
        #expect(line.contains("https://<redacted>@hooks.example.com/x?a=1&token=<redacted>&sig=<redacted>"))
        #expect(line.contains("path=/arrive/{token}/details") && line.contains("step=/arrive/confirm"), "a step name is not a token")
    }

    @Test("hash_macs: every MAC becomes the same keyed hash on every line; off, MACs stay")
    func macs() throws {
        let (log, lines, privacy) = logger(journal: true, hashMACs: true)
        log.info("session started", metadata: ["mac": "02:00:00:00:00:AA", "session": "s1"])
        log.info("session ended", metadata: ["mac": "02:00:00:00:00:aa"])
        log.notice("address moved to another device's login", metadata: ["from": "02-00-00-00-00-aa", "to": "02:00:00:00:00:bb"])
        log.error("could not authorize 02:00:00:00:00:aa: EPERM", metadata: ["element": "02:00:00:00:00:aa . 192.0.2.10"])
        let hashed = privacy.hash(mac: "02:00:00:00:00:aa")
        #expect(hashed.hasPrefix("mac~") && hashed.count == 14)
        let all = lines.all.joined()
        #expect(!all.lowercased().contains("02:00:00:00:00:aa") && !all.contains("02-00-00-00-00-aa") && !all.contains("02:00:00:00:00:bb"), "\(all)")
        #expect(lines.all[0].contains("mac=\(hashed)") && lines.all[1].contains("mac=\(hashed)") && lines.all[2].contains("from=\(hashed)"))
        #expect(lines.all[3].contains("msg=\"could not authorize \(hashed): EPERM\"") && lines.all[3].contains("element=\"\(hashed) . 192.0.2.10\""))
        // Keyed: another site's key gives another hash, so a hash cannot be looked up in a table of MACs.
        let other = LogPrivacy(hashMACs: true)
        other.useKey(Array("another site".utf8))
        #expect(other.hash(mac: "02:00:00:00:00:aa") != hashed)
        // Not MACs: longer hex runs, IPv6 addresses, times.
        #expect(privacy.scrub("2001:db8:0:0:0:0:0:10 12:30:45 aa:bb:cc:dd:ee:ff:00 fd00::aa:bb:cc:dd:ee:ff aa:bb:cc:dd:ee:ff::1")
                == "2001:db8:0:0:0:0:0:10 12:30:45 aa:bb:cc:dd:ee:ff:00 fd00::aa:bb:cc:dd:ee:ff aa:bb:cc:dd:ee:ff::1")
        // A MAC after a label and its separator is still one.
        #expect(privacy.scrub("addr:02:00:00:00:00:aa host-02-00-00-00-00-aa") == "addr:\(hashed) host-\(hashed)")
        // An EUI-64 address (SLAAC without privacy extensions) carries the MAC: its interface
        // identifier becomes the same hash; the network stays. Other addresses stay whole.
        #expect(privacy.scrub("address=2001:db8:1::ff:fe00:aa") == "address=2001:db8:1::\(hashed)")
        #expect(privacy.scrub("[2001:DB8:1:0:0:FF:FE00:AA]:8080 fe80::ff:fe00:aa%g0") == "[2001:db8:1::\(hashed)]:8080 fe80::\(hashed)%g0")
        #expect(privacy.scrub("2001:db8:ff:fe::1 2001:db8::10") == "2001:db8:ff:fe::1 2001:db8::10")
        // What follows an address in a message: a colon, a port (which would parse as another address).
        let eui = privacy.hash(mac: "00:1a:2b:3c:4d:5e")
        #expect(privacy.scrub("connect fe80::21a:2bff:fe3c:4d5e: No route to host") == "connect fe80::\(eui): No route to host")
        #expect(privacy.scrub("peer 2001:db8::21a:2bff:fe3c:4d5e:443 closed") == "peer 2001:db8::\(eui):443 closed")
        // Text cannot tell an address from an EUI-64 one and a port: the MAC is never the one shown.
        #expect(privacy.scrub("2001:db8:1::ff:fe00:aa:1") == "2001:db8:1::\(hashed):1")

        let (plain, plainLines, _) = logger(journal: true, hashMACs: false)
        plain.info("session started", metadata: ["mac": "02:00:00:00:00:aa", "address": "2001:db8:1::ff:fe00:aa"])
        #expect(plainLines.all.first?.contains("mac=02:00:00:00:00:aa") == true && plainLines.all.first?.contains("address=2001:db8:1::ff:fe00:aa") == true)
    }

    @Test("warnings and worse are kept for `portald status`, scrubbed as logged; the level can change while running")
    func recentAndLevel() {
        let recent = RecentLog(capacity: 2)
        let lines = Lines()
        let settings = JournalLogHandler.Settings(level: .warning)
        let privacy = LogPrivacy(hashMACs: false)
        let log = Logger(label: "portald", factory: { _ in
            JournalLogHandler(label: "portald", settings: settings, privacy: privacy, recent: recent, journal: true, output: { line in lines.lines.withLock { $0.append(line) } })
        })
        log.info("dropped")
        log.warning("one", metadata: ["secret": "whsec_abc"])
        log.error("two")
        log.critical("three")
        #expect(recent.latest.map(\.message) == ["two", "three"])
        settings.level = .info
        log.info("kept now")
        #expect(lines.all.count == 4 && lines.all.last == "<6>level=info msg=\"kept now\"\n")
        let first = RecentLog(capacity: 5)
        let firstLog = Logger(label: "portald", factory: { _ in
            JournalLogHandler(label: "portald", settings: .init(level: .info), privacy: privacy, recent: first, journal: true, output: { _ in })
        })
        firstLog.warning("w", metadata: ["secret": "whsec_abc"])
        #expect(first.latest.first?.metadata["secret"] == "whsec_<redacted>")
    }
}
