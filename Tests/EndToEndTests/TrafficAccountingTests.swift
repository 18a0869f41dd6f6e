import Foundation
import Testing
import Lab

/// Bytes up and down, counted by the kernel per guest, survive a restart and arrive
/// in `wifi.session.ended` at a receiver upstream.
@Suite("traffic accounting in the lab", .serialized)
struct TrafficAccountingTests {
    @Test func sessionEndedReportsTheGuestsTraffic() throws {
        let lab = try NetworkLab()
        defer { lab.destroy() }
        try lab.startUpstreamWebServer()
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        let upstreamHost = NetworkLab.upstreamIPv4
        let receiver = try WebhookReceiver(secrets: [secret], namespace: lab.upstream, host: upstreamHost)
        let portald = try Portald(lab: lab, extra: """
            [[webhooks.endpoints]]
            id = "cloud"
            url = "\(receiver.url("/hooks", host: upstreamHost))"
            secret = "\(secret)"
            topics = ["wifi.session.ended"]
            """)
        try portald.start()
        defer { try? portald.stop() }

        // The guest is seen (captured), then let on by staff.
        #expect(try lab.guestCurl(["-o", "/dev/null", "-w", "%{http_code}", "http://\(upstreamHost)/"]).stdout == "302")
        _ = try portald.cli(["auth", NetworkLab.guestMAC])

        func download() throws {
            let got = try lab.guestCurl(["-o", "/dev/null", "-w", "%{size_download}", "http://\(upstreamHost)/megabyte.bin"])
            #expect(got.stdout == "1000000")
        }
        try download()
        // 200 kB up, to a sink that reads it all.
        let upload = try lab.guest.exec(["sh", "-c", "head -c 200000 /dev/zero | curl -s -o /dev/null -w '%{http_code}' --max-time 5 --data-binary @- \(receiver.url("/sink", host: upstreamHost))"])
        #expect(upload.stdout == "204")

        // A clean restart replaces the table: what was counted so far must not be lost.
        try portald.stop()
        try portald.start()
        try download()

        _ = try portald.cli(["deauth", NetworkLab.guestMAC])
        let ended = try #require(try receiver.waitFor("wifi.session.ended") { $0.contains { $0.event == "wifi.session.ended" } }
            .first { $0.event == "wifi.session.ended" })
        #expect(ended.verified)
        guard case .number(let down)? = ended.data?["bytes_down"], case .number(let up)? = ended.data?["bytes_up"] else {
            Issue.record("no byte counts in \(String(describing: ended.data))")
            return
        }
        #expect(down >= 2_000_000 && down < 2_300_000, "bytes_down \(down)")
        #expect(up >= 200_000 && up < 320_000, "bytes_up \(up)")
    }
}
