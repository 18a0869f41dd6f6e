import Foundation

/// One receiver of events (`[[webhooks.endpoints]]`).
public struct WebhookEndpoint: Sendable {
    public enum Status: String, Sendable, CaseIterable, Codable {
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

    /// How the event is put in the body.
    public enum ContentType: String, Sendable, CaseIterable {
        /// portald's envelope `{id, event, created_at, site_id, data}`, `application/json`.
        case standard = "default"
        /// CloudEvents 1.0 structured mode, `application/cloudevents+json`.
        case cloudEvents
    }

    /// Where the endpoint is defined: the config file (read-only through the API) or the API.
    public enum ManagedBy: String, Sendable {
        case config, api
    }

    public var id: String
    public var url: URL
    /// Signing keys, newest first: during a rotation both sign every attempt.
    public var secrets: [WebhookSecret]
    public var topics: [String]
    public var fallbackURL: URL?
    public var status: Status
    public var ordering: Ordering
    public var contentType: ContentType
    /// The payload version the receiver expects (echoed; portald has one so far, "1").
    public var apiVersion: String
    public var managedBy: ManagedBy
    /// Bumped by every change through the API: the ETag that `If-Match` compares.
    public var revision: Int
    public var createdAt: Date?
    public var updatedAt: Date?

    public init(id: String, url: URL, secrets: [WebhookSecret], topics: [String], fallbackURL: URL? = nil,
                status: Status = .active, ordering: Ordering = .ordered, contentType: ContentType = .standard, apiVersion: String = "1",
                managedBy: ManagedBy = .config, revision: Int = 0, createdAt: Date? = nil, updatedAt: Date? = nil) {
        self.contentType = contentType
        self.apiVersion = apiVersion
        self.managedBy = managedBy
        self.revision = revision
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.id = id
        self.url = url
        self.secrets = secrets
        self.topics = topics
        self.fallbackURL = fallbackURL
        self.status = status
        self.ordering = ordering
    }
}

/// How the dispatcher delivers (`[webhooks]`).
public struct DeliverySettings: Sendable {
    /// Delays before the 2nd, 3rd, … attempt; their count + 1 is the number of attempts.
    public var retryDelays: [Duration]
    /// One attempt's limit, connection included.
    public var timeout: Duration
    public var logRetentionDays: Int
    /// In-flight deliveries per endpoint with `ordering = "none"`.
    public var concurrency: Int
    public var userAgent: String

    public static let defaultRetryDelays: [Duration] = [.seconds(60), .seconds(30 * 60), .seconds(4 * 3600), .seconds(19 * 3600 + 30 * 60)]

    public init(retryDelays: [Duration] = defaultRetryDelays, timeout: Duration = .seconds(15), logRetentionDays: Int = 14,
                concurrency: Int = 16, userAgent: String = "portald") {
        self.retryDelays = retryDelays
        self.timeout = timeout
        self.logRetentionDays = logRetentionDays
        self.concurrency = concurrency
        self.userAgent = userAgent
    }
}

/// A `whsec_<base64>` secret: the key is the decoded bytes after the prefix.
public struct WebhookSecret: Sendable, Equatable {
    public let key: [UInt8]
    /// After this time the secret no longer signs (the end of a rotation's overlap).
    public let validUntil: Date?

    public struct FormatError: Error, CustomStringConvertible, Sendable {
        public var description: String { "a webhook secret must be \"whsec_\" followed by base64 of at least 16 bytes" }
    }

    public init(_ text: String, validUntil: Date? = nil) throws(FormatError) {
        guard text.hasPrefix("whsec_"), let data = Data(base64Encoded: String(text.dropFirst(6))), data.count >= 16 else {
            throw FormatError()
        }
        key = Array(data)
        self.validUntil = validUntil
    }

    /// The `whsec_` text of this key.
    public var text: String { "whsec_" + Data(key).base64EncodedString() }
}
