import Foundation
import Testing
import Lab

/// Issue 7, item 6: 4 320 connections from 135 guest addresses (32 each, the per-address
/// limit), each sending a header line every 2 s and never finishing its request. Before,
/// they filled the 4 096 connection slots and, never idle, outlived the idle timeout: no
/// other guest was answered. Now every request has a total deadline and the slots follow
/// the descriptor limit, so a normal guest still logs in, quickly, during the flood.
@Suite("slow-header flood in the lab", .serialized)
struct SlowHeaderFloodTests {
    static let sources = 135, perSource = 32
    static let requestTimeout = 3

    @Test("a guest logs in within 1 s while 4 320 slow connections flood the portal; each is cut at the deadline")
    func guestLogsInDuringFlood() throws {
        let lab = try NetworkLab()
        defer { lab.destroy() }
        // The flood's addresses, beside the guest's own 192.0.2.10: 192.0.2.20 to .154.
        for host in 20..<(20 + Self.sources) {
            try lab.guest.exec(["ip", "addr", "add", "192.0.2.\(host)/24", "dev", "g0"])
        }
        let portald = try Portald(lab: lab, portal: "request_timeout_seconds = \(Self.requestTimeout)")
        try portald.start()
        defer { try? portald.stop() }

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Lab/slow_headers.py").path
        let floodLog = portald.directory.appendingPathComponent("flood.log").path
        let flood = try lab.spawn(in: lab.guest, ["python3", script, NetworkLab.gatewayLANIPv4, "8080", "192.0.2.20",
                                                  "\(Self.sources)", "\(Self.perSource)", "2", "10"], logTo: floodLog)
        let log = { (try? String(contentsOfFile: floodLog, encoding: .utf8)) ?? "" }
        try waitUntil("the flood's first wave is connected", timeout: .seconds(20)) {
            guard flood.isRunning else { throw LabError("the flood script exited:\n\(log())") }
            return log().contains("ready")
        }

        // Twice: in the first wave, and after it was cut and the flood reconnected.
        let guest = Guest(lab: lab)
        for round in 0..<2 {
            if round == 1 { usleep(UInt32(Self.requestTimeout) * 1_000_000 + 500_000) }
            let started = ContinuousClock.now
            let splash = try guest.get("http://\(NetworkLab.gatewayLANIPv4):8080/")
            #expect(splash.status == 200, "round \(round): splash \(splash.status)")
            let token = try Guest.formToken(in: splash.body)
            let login = try guest.post("http://\(NetworkLab.gatewayLANIPv4):8080/login/terms", form: [("csrf", token), ("accept", "yes")])
            let took = ContinuousClock.now - started
            #expect(login.status == 200 && login.body.contains("You are online"), "round \(round): login answered \(login.status)")
            #expect(took < .seconds(1), "round \(round): the login took \(took) during the flood")
            print("slow-header flood: round \(round) splash + login took \(took)")
            if round == 0 { try portald.cli(["deauth", NetworkLab.guestMAC]) }
        }

        try waitUntil("the flood ends", timeout: .seconds(30)) { !flood.isRunning }
        let summaryLine = try #require(log().split(separator: "\n").last { $0.hasPrefix("{") }, "no summary:\n\(log())")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(summaryLine.utf8)) as? [String: Any])
        print("slow-header flood: \(summaryLine)")
        // Every one of the 4 320 was accepted and held until its deadline, not refused or dropped at once.
        #expect(summary["refused"] as? Int == 0)
        #expect(summary["first_wave_cut"] as? Int == Self.sources * Self.perSource, "not every first-wave connection was cut")
        let shortest = try #require(summary["first_wave_min"] as? Double), median = try #require(summary["first_wave_p50"] as? Double)
        let longest = try #require(summary["first_wave_max"] as? Double)
        // Measured by the script from before its connect: the slack is MHD accepting 4 320
        // connections, the 250 ms sweep, and one Python thread noticing 4 320 closes. Without
        // the deadline they would all live to the flood's end (10 s), never idle for 15 s.
        #expect(shortest >= Double(Self.requestTimeout) - 0.1, "a first-wave connection was dropped after \(shortest) s")
        #expect(median < Double(Self.requestTimeout) + 2 && longest < Double(Self.requestTimeout) + 3,
                "first-wave connections lived \(median) s (median), \(longest) s (longest): the deadline is \(Self.requestTimeout) s")
        #expect(portald.log.contains("closed connections whose request took longer than the limit to arrive"))
    }
}
