import Foundation
import Outbox

/// `[webhooks]` and its `[[webhooks.endpoints]]`, as the outbox takes them.
public struct WebhooksConfig: Sendable {
    public var endpoints: [WebhookEndpoint]
    public var delivery: DeliverySettings

    public static let none = WebhooksConfig(endpoints: [], delivery: DeliverySettings())
}

extension TableReader {
    func webhooks(secrets source: SecretSource, resolve: (String) -> String) throws -> WebhooksConfig {
        var config = WebhooksConfig.none
        if let delays = try optionalStringArray("retry_delays") {
            config.delivery.retryDelays = try delays.map { text in
                guard let duration = DurationText.parse(text) else {
                    throw ConfigError("\(name("retry_delays")): \"\(text)\" is not a duration like \"30s\", \"5m\", \"2h\" or \"1h30m\"")
                }
                return duration
            }
            guard config.delivery.retryDelays.count <= 20 else { throw ConfigError("\(name("retry_delays")): at most 20 retries") }
        }
        config.delivery.timeout = .seconds(try int("timeout_seconds", default: 15, range: 1...120))
        config.delivery.logRetentionDays = try int("log_retention_days", default: 14, range: 1...3650)
        config.delivery.concurrency = try int("concurrency", default: 16, range: 1...256)
        var seen: Set<String> = []
        for entry in try arrayOfTables("endpoints") {
            try entry.rejectUnknownKeys(allowing: Set(["id", "url", "topics", "fallback_url", "status", "ordering", "previous_secret_until"]
                                                      + ["secret", "previous_secret"].flatMap { [$0, $0 + "_file", $0 + "_env"] }))
            let id = try entry.string("id", matching: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", hint: "letters, digits, '.', '_' or '-'")
            entry.path = "[[webhooks.endpoints]] \"\(id)\""  // errors below name the endpoint
            guard !id.hasPrefix("we_") else { throw ConfigError("\(entry.name("id")): ids starting with \"we_\" are those of endpoints made through the API") }
            guard seen.insert(id).inserted else { throw ConfigError("\(entry.name("id")): \"\(id)\" is used by two endpoints") }
            var secrets = [try entry.webhookSecret("secret", from: source, resolve: resolve)]
            if entry.has("previous_secret") || entry.has("previous_secret_file") || entry.has("previous_secret_env") {
                let until = try entry.dateTime("previous_secret_until")
                secrets.append(try entry.webhookSecret("previous_secret", validUntil: until, from: source, resolve: resolve))
            }
            let topics = try entry.stringArray("topics")
            guard !topics.isEmpty else { throw ConfigError("\(entry.name("topics")): list at least one topic, or \"*\"") }
            for topic in topics where !TopicPattern.isValid(topic) {
                throw ConfigError("\(entry.name("topics")): \"\(topic)\" is not a topic (e.g. \"wifi.*\", \"arrival.arrived\", \"*\")")
            }
            let fallback = entry.has("fallback_url") ? try entry.url("fallback_url") : nil
            config.endpoints.append(.init(
                id: id, url: try entry.url("url"), secrets: secrets, topics: topics, fallbackURL: fallback,
                status: try entry.enumeration("status", default: WebhookEndpoint.Status.active),
                ordering: try entry.enumeration("ordering", default: WebhookEndpoint.Ordering.ordered)))
            try entry.rejectUnknownKeys()
        }
        try rejectUnknownKeys()
        return config
    }

    /// A `whsec_` secret given inline, in a file or in the environment; errors name the key.
    func webhookSecret(_ key: String, validUntil: Date? = nil, from secrets: SecretSource, resolve: (String) -> String) throws -> WebhookSecret {
        let text = try secret(key, from: secrets, resolve: resolve)
        do {
            return try WebhookSecret(text, validUntil: validUntil)
        } catch {
            throw ConfigError("\(name(key)): \(error.description)")
        }
    }
}

/// `30s`, `5m`, `2h`, `1h30m`, `1d`.
enum DurationText {
    static func parse(_ text: String) -> Duration? {
        var total: Int64 = 0
        var number = ""
        var sawUnit = false
        for character in text {
            if character.isASCII && character.isNumber {
                number.append(character)
                continue
            }
            guard let value = Int64(number) else { return nil }
            let unit: Int64
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            default: return nil
            }
            // A huge number is refused like any other bad duration, not a crash.
            let (seconds, overflow) = value.multipliedReportingOverflow(by: unit)
            let (sum, overflowSum) = total.addingReportingOverflow(seconds)
            guard !overflow, !overflowSum, sum <= 10 * 365 * 86400 else { return nil }
            total = sum
            number = ""
            sawUnit = true
        }
        guard number.isEmpty, sawUnit else { return nil }
        return .seconds(total)
    }
}
