import Foundation
import Testing
import Lab

/// `Type=notify` as systemd sees it: READY=1 only once the capture and the
/// listeners are up, WATCHDOG=1 at half of WATCHDOG_USEC, RELOADING=1 … READY=1 on SIGHUP,
/// STOPPING=1 on SIGTERM.
@Suite("sd_notify from the real daemon", .serialized)
struct SystemdNotifyTests {
    @Test func readyWatchdogStopping() throws {
        let lab = try NetworkLab()
        defer { lab.destroy() }
        let notify = try NotifySocket()
        let portald = try Portald(lab: lab)
        try portald.start(environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"])
        let ready = try notify.waitFor("READY=1")
        #expect(ready.last?.contains("STATUS=serving 192.0.2.1:8080") == true)
        // By READY the table is in place.
        #expect(try lab.gateway.exec(["nft", "list", "set", "inet", "portald", "authorized"]).status == 0)
        _ = try notify.waitFor("WATCHDOG=1", timeout: .seconds(2))
        _ = try notify.waitFor("WATCHDOG=1", timeout: .seconds(2))
        // SIGHUP (ExecReload=): RELOADING=1 with MONOTONIC_USEC, then READY=1 once it is applied.
        try portald.run(["pkill", "-HUP", "-f", "serve --config \(portald.configPath)"])
        let reloading = try notify.waitFor("RELOADING=1", timeout: .seconds(3))
        #expect(reloading.last?.contains("MONOTONIC_USEC=") == true, "\(reloading)")
        let reloaded = try notify.waitFor("READY=1", timeout: .seconds(3))
        #expect(reloaded.last?.contains("STATUS=serving; configuration reloaded") == true, "\(reloaded)")
        try portald.stop()
        _ = try notify.waitFor("STOPPING=1", timeout: .seconds(2))
    }

    @Test("the watchdog is pinged only while the health checks pass; /health says what failed; a removed table is put back at once")
    func watchdogFollowsHealth() throws {
        let lab = try NetworkLab()
        defer { lab.destroy() }
        let notify = try NotifySocket()
        let portald = try Portald(lab: lab)
        // WatchdogSec=2s: pings every second, and the health checks run every second too.
        try portald.start(environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "2000000"])
        _ = try notify.waitFor("READY=1")
        _ = try notify.waitFor("WATCHDOG=1", timeout: .seconds(3))
        let health = { try portald.run(["curl", "-s", "-w", "\n%{http_code}", "http://127.0.0.1:\(portald.adminPort)/api/v1/health"]).stdout }
        #expect(try health().hasSuffix("\n200"))
        #expect(try health().contains(#""portal":"ok""#))

        // Someone deletes the table: the health check's repair puts it back well before the
        // 30 s reconcile timer, and the guests' sets with it.
        try lab.gateway.exec(["nft", "delete", "table", "inet", "portald"])
        try waitUntil("the table is back", timeout: .seconds(4)) {
            try lab.gateway.exec(["nft", "list", "set", "inet", "portald", "authorized"], check: false).status == 0
        }

        // The store stops taking the probe's write: 503 naming the store, and no more pings.
        let database = portald.databasePath
        try portald.run(["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('DROP TABLE store_probe'); c.commit()", database])
        try waitUntil("health reports the store", timeout: .seconds(4)) { try health().hasSuffix("\n503") }
        let failing = try health()
        #expect(failing.contains(#""status":"failing""#) && failing.contains("does not take a write"), "\(failing)")
        try waitUntil("housekeeping notices", timeout: .seconds(4)) { portald.log.contains("health check failed; the systemd watchdog is not being pinged") }
        _ = notify.collect(for: .milliseconds(300))  // pings sent before it did
        let whileFailing = notify.collect(for: .seconds(3))
        #expect(!whileFailing.contains { $0.contains("WATCHDOG=1") }, "pinged while failing: \(whileFailing)")

        // Mended: pings resume.
        try portald.run(["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('CREATE TABLE store_probe (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at REAL NOT NULL)'); c.commit()", database])
        _ = try notify.waitFor("WATCHDOG=1", timeout: .seconds(4))
        #expect(try health().hasSuffix("\n200"))
    }
}
