import Foundation

/// What operators see of the outbox (`portald outbox …`, `/api/v1/outbox`).
public struct OutboxEventView: Codable, Sendable {
    public struct Delivery: Codable, Sendable {
        public var endpoint: String
        public var status: String
        public var attempts: Int
        public var nextAttemptAt: Date?
        public var lastError: String?
        enum CodingKeys: String, CodingKey { case endpoint, status, attempts, nextAttemptAt = "next_attempt_at", lastError = "last_error" }
    }
    public struct Attempt: Codable, Sendable {
        public var endpoint: String
        public var attemptedAt: Date
        public var url: String
        public var statusCode: Int?
        public var latencyMs: Int
        public var error: String?
        enum CodingKeys: String, CodingKey {
            case endpoint, attemptedAt = "attempted_at", url, statusCode = "status_code", latencyMs = "latency_ms", error
        }
    }
    public var id: String
    public var event: String
    public var createdAt: Date
    public var deliveries: [Delivery]
    /// Only in `show`: the envelope as JSON, the exact bytes sent (what signatures are
    /// computed over; JSON re-encoding could reorder or re-escape), and the delivery log.
    public var envelope: JSONValue?
    public var body: String?
    public var attempts: [Attempt]?
    enum CodingKeys: String, CodingKey { case id, event, createdAt = "created_at", deliveries, envelope, body, attempts }
}

public struct OutboxStats: Codable, Sendable {
    public struct Endpoint: Codable, Sendable {
        public var id: String
        public var status: String
        public var pending: Int
        public var delivered: Int
        public var dead: Int
        public var oldestPendingAt: Date?
        enum CodingKeys: String, CodingKey { case id, status, pending, delivered, dead, oldestPendingAt = "oldest_pending_at" }
    }
    public var pending: Int
    public var delivered: Int
    public var dead: Int
    public var endpoints: [Endpoint]
}

/// Any JSON value, to show a stored envelope as JSON rather than as a string.
public indirect enum JSONValue: Codable, Sendable, Equatable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if let integer = Self.writtenAsInteger(value) { try container.encode(integer) } else { try container.encode(value) }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(Dictionary(elements) { $1 }) }
}
