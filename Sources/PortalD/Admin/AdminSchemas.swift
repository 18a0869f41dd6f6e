import Outbox

/// The admin API's JSON shapes (OpenAPI components), beside the types they describe:
/// `ClientView`, `OutboxEventView`, `OutboxStats`, `APIError`.
enum AdminSchemas {
    static let time: JSONValue = ["type": "string", "format": "date-time"]
    static let string: JSONValue = ["type": "string"]
    static let integer: JSONValue = ["type": "integer"]
    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }
    static func object(_ properties: [String: JSONValue], required: [String]) -> JSONValue {
        ["type": "object", "required": .array(required.map { .string($0) }), "properties": .object(properties)]
    }

    /// What the parsers accept (`MACAddress`, `IPv4Address`): anything else is a 400.
    static let mac: JSONValue = ["type": "string", "pattern": "^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$", "example": "02:00:00:00:00:10"]
    static let ipv4: JSONValue = ["type": "string", "pattern": "^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$",
                                  "example": "192.0.2.10"]
    static let pathParameters: [String: JSONValue] = ["mac": mac]

    static let components: JSONValue = [
        "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]],
        "responses": [
            "Unauthorized": ["description": "no or unknown bearer token", "content": ["application/json": ["schema": ref("Error")]]],
            "Forbidden": ["description": "the token lacks the scope", "content": ["application/json": ["schema": ref("Error")]]],
            "TooManyFailures": ["description": "10 failed authentications from this address within a minute: refused until the minute ends (`Retry-After`)",
                                "headers": ["Retry-After": ["schema": integer, "description": "seconds"]],
                                "content": ["application/json": ["schema": ref("Error")]]],
        ],
        "schemas": [
            "Error": object(["error": object(["code": string, "message": string], required: ["code", "message"])], required: ["error"]),
            "Health": object(["status": ["type": "string", "enum": ["ok", "failing", "starting"]], "checked_at": time,
                              "checks": ["type": "object", "additionalProperties": string,
                                         "description": "store, firewall, dispatcher, portal: \"ok\" or what failed"]],
                             required: ["status", "checks"]),
            "Subject": ["type": "object", "nullable": true, "required": ["type", "id"],
                        "properties": ["type": ["type": "string", "enum": ["reservation", "code"]], "id": string]],
            "Client": object([
                "session_id": string, "mac": string, "ipv4": string, "subject": ref("Subject"),
                "method": ["type": "string", "enum": .array(Session.Method.allCases.map { .string($0.rawValue) })],
                "started_at": time, "expires_at": time, "seconds_remaining": integer,
            ], required: ["session_id", "mac", "ipv4", "method", "subject", "started_at", "expires_at", "seconds_remaining"]),
            "ClientList": object(["clients": ["type": "array", "items": ref("Client")]], required: ["clients"]),
            "AuthorizeRequest": ["type": "object", "additionalProperties": false,
                                 "properties": ["ipv4": ipv4, "minutes": ["type": "integer", "minimum": 1, "maximum": .number(Double(Session.minutesRange.upperBound))]]],
            "Delivery": object(["endpoint": string, "status": ["type": "string", "enum": ["pending", "delivered", "dead"]],
                                "attempts": integer, "next_attempt_at": time, "last_error": string],
                               required: ["endpoint", "status", "attempts"]),
            "Attempt": object(["endpoint": string, "attempted_at": time, "url": string, "status_code": integer,
                               "latency_ms": integer, "error": string], required: ["endpoint", "attempted_at", "url", "latency_ms"]),
            "OutboxEvent": object(["id": string, "event": string, "created_at": time,
                                   "deliveries": ["type": "array", "items": ref("Delivery")],
                                   "envelope": ["type": "object", "description": "the body sent, as JSON (show only)"],
                                   "body": ["type": "string", "description": "the exact bytes sent, which the signatures cover (show only)"],
                                   "attempts": ["type": "array", "items": ref("Attempt")]],
                                  required: ["id", "event", "created_at", "deliveries"]),
            "OutboxEventList": object(["events": ["type": "array", "items": ref("OutboxEvent")]], required: ["events"]),
            "OutboxStats": object([
                "pending": integer, "delivered": integer, "dead": integer,
                "endpoints": ["type": "array", "items": object([
                    "id": string, "status": string, "pending": integer, "delivered": integer, "dead": integer, "oldest_pending_at": time,
                ], required: ["id", "status", "pending", "delivered", "dead"])],
            ], required: ["pending", "delivered", "dead", "endpoints"]),
            "Replayed": object(["replayed": integer], required: ["replayed"]),
            "TestEvent": object(["id": string], required: ["id"]),
            "Resumed": object(["endpoint": string, "resumed": string], required: ["endpoint", "resumed"]),
        ],
    ]
}
