import Foundation

/// `[webhooks]` and its `[[webhooks.endpoints]]`.
public struct WebhooksConfig: Sendable {
    public enum EndpointStatus: String, Sendable, CaseIterable, Codable {
        /// Events are sent.
        case active
        /// Events are kept but not sent until the endpoint is resumed.
        case suspended
        /// Events are neither sent nor kept.
        case inactive
    }

    public enum Ordering: String, Sendable, CaseIterable {
        /// One event at a time, in creation order: a failing event holds back later ones.
        case ordered
        /// Events go out concurrently; a failing event does not hold back others.
        case none
    }

    public struct Endpoint: Sendable {
        public var id: String
        public var url: URL
        /// Signing keys, newest first: during a rotation both sign every attempt.
        public var secrets: [WebhookSecret]
        public var topics: [String]
        public var fallbackURL: URL?
        public var status: EndpointStatus
        public var ordering: Ordering
    }

    public var endpoints: [Endpoint]
    /// Delays before the 2nd, 3rd, … attempt; their count + 1 is the number of attempts.
    public var retryDelays: [Duration]
    public var timeout: Duration
    public var logRetentionDays: Int
    /// In-flight deliveries per endpoint with `ordering = "none"`.
    public var concurrency: Int

    public static let defaultRetryDelays: [Duration] = [.seconds(60), .seconds(30 * 60), .seconds(4 * 3600), .seconds(19 * 3600 + 30 * 60)]

    public static let none = WebhooksConfig(endpoints: [], retryDelays: defaultRetryDelays, timeout: .seconds(15), logRetentionDays: 14, concurrency: 16)
}

/// A `whsec_<base64>` secret: the key is the decoded bytes after the prefix.
public struct WebhookSecret: Sendable, Equatable {
    public let key: [UInt8]
    /// After this time the secret no longer signs (the end of a rotation's overlap).
    public let validUntil: Date?

    public init(_ text: String, validUntil: Date? = nil) throws {
        guard text.hasPrefix("whsec_"), let data = Data(base64Encoded: String(text.dropFirst(6))), data.count >= 16 else {
            throw ConfigError("a webhook secret must be \"whsec_\" followed by base64 of at least 16 bytes")
        }
        key = Array(data)
        self.validUntil = validUntil
    }
}

extension TableReader {
    func webhooks(environment: [String: String], resolve: (String) -> String) throws -> WebhooksConfig {
        var config = WebhooksConfig.none
        if let delays = try optionalStringArray("retry_delays") {
            config.retryDelays = try delays.map { text in
                guard let duration = DurationText.parse(text) else {
                    throw ConfigError("\(name("retry_delays")): \"\(text)\" is not a duration like \"30s\", \"5m\", \"2h\" or \"1h30m\"")
                }
                return duration
            }
            guard config.retryDelays.count <= 20 else { throw ConfigError("\(name("retry_delays")): at most 20 retries") }
        }
        config.timeout = .seconds(try int("timeout_seconds", default: 15, range: 1...120))
        config.logRetentionDays = try int("log_retention_days", default: 14, range: 1...3650)
        config.concurrency = try int("concurrency", default: 16, range: 1...256)
        var seen: Set<String> = []
        for entry in try arrayOfTables("endpoints") {
            let id = try entry.string("id", matching: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", hint: "letters, digits, '.', '_' or '-'")
            guard seen.insert(id).inserted else { throw ConfigError("\(entry.name("id")): \"\(id)\" is used by two endpoints") }
            var secrets = [try WebhookSecret(entry.secret("secret", environment: environment, resolve: resolve))]
            if entry.has("previous_secret") || entry.has("previous_secret_file") || entry.has("previous_secret_env") {
                let until = try entry.dateTime("previous_secret_until")
                secrets.append(try WebhookSecret(entry.secret("previous_secret", environment: environment, resolve: resolve), validUntil: until))
            }
            let topics = try entry.stringArray("topics")
            guard !topics.isEmpty else { throw ConfigError("\(entry.name("topics")): list at least one topic, or \"*\"") }
            for topic in topics where !TopicPattern.isValid(topic) {
                throw ConfigError("\(entry.name("topics")): \"\(topic)\" is not a topic (e.g. \"wifi.*\", \"arrival.arrived\", \"*\")")
            }
            let fallback = entry.has("fallback_url") ? try entry.url("fallback_url") : nil
            config.endpoints.append(.init(
                id: id, url: try entry.url("url"), secrets: secrets, topics: topics, fallbackURL: fallback,
                status: try entry.enumeration("status", default: WebhooksConfig.EndpointStatus.active),
                ordering: try entry.enumeration("ordering", default: WebhooksConfig.Ordering.ordered)))
            try entry.rejectUnknownKeys()
        }
        try rejectUnknownKeys()
        return config
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
            switch character {
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            case "d": total += value * 86400
            default: return nil
            }
            number = ""
            sawUnit = true
        }
        guard number.isEmpty, sawUnit else { return nil }
        return .seconds(total)
    }
}
