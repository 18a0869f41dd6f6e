import ArgumentParser
import Foundation
import HTTPServer
import Outbox

struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "Inspect and replay the webhook outbox.",
        subcommands: [List.self, Show.self, Replay.self, Stats.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Recent events and their deliveries, newest first.")
        @OptionGroup var options: ConfigOptions
        @Option(help: "Only events with a delivery in this state: pending, delivered or dead.") var status: String?
        @Option(help: "How many events (1–1000).") var limit = 50
        @Flag(help: "Print typed JSON.") var json = false

        func run() async throws {
            try await reporting {
                var path = "/api/v1/outbox?limit=\(limit)"
                if let status { path += "&status=\(FormData.encode(status))" }
                let data = try await options.adminClient().send("GET", path)
                if json { return print(String(decoding: data, as: UTF8.self)) }
                let events = try JSON.decoder().decode([String: [OutboxEventView]].self, from: data)["events"] ?? []
                guard !events.isEmpty else { return print("no events") }
                print(TextTable.render(["ID", "EVENT", "CREATED (UTC)", "DELIVERIES"], events.map { event in
                    [event.id, event.event, RFC3339.string(event.createdAt),
                     event.deliveries.map { "\($0.endpoint):\($0.status)(\($0.attempts))" }.joined(separator: " ")]
                }))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One event: its envelope, deliveries and every attempt.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The event id (a UUID, as in the envelope and webhook-id).") var id: String
        @Flag(help: "Print typed JSON.") var json = false

        func run() async throws {
            try await reporting {
                let data = try await options.adminClient().send("GET", "/api/v1/outbox/\(FormData.encode(id))")
                if json { return print(String(decoding: data, as: UTF8.self)) }
                let event = try JSON.decoder().decode(OutboxEventView.self, from: data)
                print("\(event.id)  \(event.event)  created \(RFC3339.string(event.createdAt))")
                for delivery in event.deliveries {
                    var line = "  \(delivery.endpoint): \(delivery.status) after \(delivery.attempts) attempt(s)"
                    if let next = delivery.nextAttemptAt { line += ", next at \(RFC3339.string(next))" }
                    if let error = delivery.lastError { line += ", last error: \(error)" }
                    print(line)
                }
                let attempts = event.attempts ?? []
                if !attempts.isEmpty {
                    print(TextTable.render(["ATTEMPTED (UTC)", "ENDPOINT", "STATUS", "LATENCY", "URL", "ERROR"], attempts.map {
                        [RFC3339.string($0.attemptedAt), $0.endpoint, $0.statusCode.map(String.init) ?? "-", "\($0.latencyMs) ms", $0.url, $0.error ?? ""]
                    }))
                }
                // The exact bytes sent: a receiver's engineer recomputes signatures from them.
                if let body = event.body { print(body) }
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send an event again (same id), or every dead one with --dead.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The event id (a UUID, as in the envelope and webhook-id).") var id: String?
        @Flag(help: "Replay every dead delivery.") var dead = false

        func validate() throws {
            guard (id == nil) != !dead else { throw ValidationError("give an event id or --dead, not both") }
        }

        func run() async throws {
            try await reporting {
                let client = try options.adminClient()
                let path = dead ? "/api/v1/outbox/replay-dead" : "/api/v1/outbox/\(FormData.encode(id ?? ""))/replay"
                let data = try await client.send("POST", path)
                let count = (try JSONSerialization.jsonObject(with: data) as? [String: Int])?["replayed"] ?? 0
                print("\(count) deliver\(count == 1 ? "y" : "ies") queued again")
            }
        }
    }

    struct Stats: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pending, delivered and dead deliveries per endpoint.")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Print typed JSON.") var json = false

        func run() async throws {
            try await reporting {
                let data = try await options.adminClient().send("GET", "/api/v1/outbox/stats")
                if json { return print(String(decoding: data, as: UTF8.self)) }
                let stats = try JSON.decoder().decode(OutboxStats.self, from: data)
                print(TextTable.render(["ENDPOINT", "STATUS", "PENDING", "DELIVERED", "DEAD", "OLDEST PENDING (UTC)"], stats.endpoints.map {
                    [$0.id, $0.status, String($0.pending), String($0.delivered), String($0.dead), $0.oldestPendingAt.map(RFC3339.string) ?? "-"]
                }))
            }
        }
    }
}

struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "webhooks", abstract: "Test and resume webhook endpoints.",
                                                    subcommands: [Test.self, Resume.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a signed webhook.test event to one endpoint and report the answer.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The endpoint's id.") var endpoint: String

        func run() async throws {
            try await reporting {
                let config = try options.load()
                let client = try AdminClient(config: config, tokenFile: nil)
                let created = try await client.send("POST", "/api/v1/webhooks/\(FormData.encode(endpoint))/test")
                guard let id = (try JSONSerialization.jsonObject(with: created) as? [String: String])?["id"], !id.isEmpty else {
                    throw CLIError("the endpoint did not take the test event")
                }
                let deadline = ContinuousClock.now + .seconds(config.webhooks.delivery.timeout.components.seconds * 2 + 5)
                while ContinuousClock.now < deadline {
                    let data = try await client.send("GET", "/api/v1/outbox/\(id)")
                    let event = try JSON.decoder().decode(OutboxEventView.self, from: data)
                    if let attempt = event.attempts?.last, let delivery = event.deliveries.first, delivery.attempts > 0 {
                        let answer = attempt.statusCode.map { "HTTP \($0)" } ?? (attempt.error ?? "no answer")
                        if delivery.status == "delivered" {
                            return print("\(id) delivered to \(endpoint): \(answer) in \(attempt.latencyMs) ms")
                        }
                        throw CLIError("\(id) to \(endpoint) failed: \(answer) (\(delivery.status)\(delivery.nextAttemptAt.map { ", retry at \(RFC3339.string($0))" } ?? ""))")
                    }
                    try await Task.sleep(for: .milliseconds(100))
                }
                throw CLIError("\(id): no attempt within the time limit (is the endpoint suspended? see `portald outbox stats`)")
            }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume an endpoint suspended by a 410 Gone answer.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The endpoint's id.") var endpoint: String

        func run() async throws {
            try await reporting {
                let data = try await options.adminClient().send("POST", "/api/v1/webhooks/\(FormData.encode(endpoint))/resume")
                let answer = (try JSONSerialization.jsonObject(with: data) as? [String: String])?["resumed"] ?? ""
                print("\(endpoint): \(answer == "yes" ? "resumed" : answer)")
            }
        }
    }
}

/// Left-aligned columns for the CLI's tables.
enum TextTable {
    static func render(_ header: [String], _ rows: [[String]]) -> String {
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
