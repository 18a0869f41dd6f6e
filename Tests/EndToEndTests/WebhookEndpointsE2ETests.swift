import Foundation
import Lab
import Testing

/// Endpoints made through the admin API of a real daemon, delivering to a receiver that
/// checks each delivery with independent packages: `standardwebhooks` for the
/// signatures, the `cloudevents` SDK for CloudEvents structured mode.
@Suite("webhook endpoints by API on a real daemon", .serialized)
struct WebhookEndpointsE2ETests {
    func api(_ portald: Portald, _ method: String, _ path: String, _ body: String? = nil, headers: [String] = []) throws -> (status: Int, json: [String: Any], raw: String) {
        let token = try String(contentsOfFile: portald.directory.appendingPathComponent("admin.token").path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var arguments = ["curl", "-s", "--max-time", "5", "-X", method, "-w", "\n%{http_code}", "-H", "Authorization: Bearer \(token)"]
        for header in headers { arguments += ["-H", header] }
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let output = try Shell.run(arguments + ["http://127.0.0.1:\(portald.adminPort)/api/v1\(path)"]).stdout
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        let raw = lines.dropLast().joined(separator: "\n")
        return (Int(lines.last ?? "") ?? 0, (try? JSONSerialization.jsonObject(with: Data(raw.utf8))) as? [String: Any] ?? [:], raw)
    }

    @Test("created by API → signed deliveries verified independently; secret never shown twice; If-Match; CloudEvents read by the SDK; rotation")
    func endpointsByAPI() throws {
        let receiver = try WebhookReceiver(secrets: ["whsec_" + Data(repeating: 1, count: 24).base64EncodedString()])
        let portald = try Portald.loopback()
        try portald.start()
        defer { try? portald.stop() }

        let plain = try api(portald, "POST", "/webhook-endpoints", #"{"url": "\#(receiver.url("/plain"))", "topics": ["*"]}"#)
        #expect(plain.status == 201, "\(plain.raw)")
        let plainID = try #require(plain.json["id"] as? String), plainSecret = try #require(plain.json["secret"] as? String)
        let cloud = try api(portald, "POST", "/webhook-endpoints", #"{"url": "\#(receiver.url("/ce"))", "topics": ["webhook.*"], "contentType": "cloudEvents"}"#)
        let cloudID = try #require(cloud.json["id"] as? String), cloudSecret = try #require(cloud.json["secret"] as? String)
        try receiver.trust(plainSecret)
        try receiver.trust(cloudSecret)
        #expect(!(try api(portald, "GET", "/webhook-endpoints").raw.contains("whsec_")), "no secret is listed")
        #expect(!(try api(portald, "GET", "/webhook-endpoints/\(plainID)").raw.contains("whsec_")))

        #expect(try portald.cli(["webhooks", "test", plainID]).stdout.contains("delivered"))
        #expect(try portald.cli(["webhooks", "test", cloudID]).stdout.contains("delivered"))
        let received = try receiver.waitFor("both tests") { $0.filter(\.verified).count >= 2 }
        let standard = try #require(received.first { $0.path == "/plain" })
        #expect(standard.verified && standard.event == "webhook.test" && standard.contentType == "application/json")
        let event = try #require(received.first { $0.path == "/ce" })
        #expect(event.verified && event.contentType == "application/cloudevents+json", "\(event)")
        #expect(event.cloudEventError == nil, "\(event.cloudEventError ?? "")")
        #expect(event.cloudEvent?["type"] == "webhook.test" && event.cloudEvent?["source"] == "/portald/lab-hotel"
                && event.cloudEvent?["specversion"] == "1.0" && event.cloudEvent?["id"] == event.webhookID, "\(String(describing: event.cloudEvent))")
        #expect(event.cloudEvent?["time"]?.hasSuffix("+00:00") == true && event.cloudEvent?["data"]?.contains("portald webhook test") == true,
                "\(String(describing: event.cloudEvent))")

        let token = try String(contentsOfFile: portald.directory.appendingPathComponent("admin.token").path, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let head = try Shell.run(["curl", "-s", "-o", "/dev/null", "-D", "-", "--max-time", "5", "-H", "Authorization: Bearer \(token)",
                                  "http://127.0.0.1:\(portald.adminPort)/api/v1/webhook-endpoints/\(plainID)"]).stdout
        let etag = try #require(head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("etag:") }.map { $0.dropFirst(5).trimmingCharacters(in: .whitespaces) })
        #expect(etag == "\"1\"")
        #expect(try api(portald, "PATCH", "/webhook-endpoints/\(plainID)", #"{"status": "suspended"}"#, headers: ["If-Match: \"7\""]).status == 412)
        #expect(try api(portald, "PATCH", "/webhook-endpoints/\(plainID)", #"{"topics": ["wifi.*", "webhook.*"]}"#, headers: ["If-Match: \(etag)"]).status == 200)

        // Rotation: the new secret is shown once; deliveries carry both signatures meanwhile,
        // so a receiver that knows only the old one still verifies them.
        let rotated = try api(portald, "POST", "/webhook-endpoints/\(plainID)/rotate-secret", "{}")
        let newSecret = try #require(rotated.json["secret"] as? String)
        #expect(newSecret != plainSecret)
        #expect(try portald.cli(["webhooks", "test", plainID]).stdout.contains("delivered"))
        let afterRotation = try receiver.waitFor("a delivery after rotation") { $0.filter { $0.path == "/plain" }.count >= 2 }
        let last = try #require(afterRotation.last { $0.path == "/plain" })
        #expect(last.verified && (last.signature?.split(separator: " ").count ?? 0) == 2)

        #expect(try api(portald, "DELETE", "/webhook-endpoints/\(cloudID)").status == 204)
        let gone = try portald.cli(["webhooks", "test", cloudID], check: false)
        #expect(gone.status == 1 && gone.stderr.contains("no webhook endpoint"), "\(gone.stderr)")
    }
}
