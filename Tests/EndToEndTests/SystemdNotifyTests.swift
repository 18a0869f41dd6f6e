import Foundation
import Testing
import Lab

/// `Type=notify` as systemd sees it: READY=1 only once the capture and the
/// listeners are up, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 on SIGTERM.
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
        try portald.stop()
        _ = try notify.waitFor("STOPPING=1", timeout: .seconds(2))
    }
}
