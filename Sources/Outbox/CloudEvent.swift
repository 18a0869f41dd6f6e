import Foundation

/// An outbox event as a CloudEvents 1.0 event in structured mode
/// (`application/cloudevents+json`), for endpoints with `contentType = "cloudEvents"`:
/// the envelope's id, event and created_at become `id`, `type` and `time`, its site the
/// `source` (`/portald/<site_id>`), and its data the `data`.
enum CloudEvent {
    static let contentType = "application/cloudevents+json"

    static func structured(fromEnvelope body: [UInt8]) -> [UInt8] {
        guard case .object(let envelope)? = JSONValue(json: body) else { return body }
        var site = "unknown"
        if case .string(let id)? = envelope["site_id"] { site = id }
        let event: [String: JSONValue] = [
            "specversion": "1.0",
            "id": envelope["id"] ?? .null,
            "source": .string("/portald/\(site)"),
            "type": envelope["event"] ?? .null,
            "time": envelope["created_at"] ?? .null,
            "datacontenttype": "application/json",
            "data": envelope["data"] ?? .null,
        ]
        return Array(JSON.encode(event))  // sorted keys: the same bytes on every attempt
    }
}
