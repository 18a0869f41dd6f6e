import Arrivals
import Outbox

/// The admin API's JSON shapes (OpenAPI components), beside the types they describe:
/// `ClientView`, `OutboxEventView`, `OutboxStats`, `APIError`.
enum AdminSchemas {
    static let time: JSONValue = ["type": "string", "format": "date-time"]
    static let string: JSONValue = ["type": "string"]
    static let integer: JSONValue = ["type": "integer"]
    /// A calendar date, years 1900 to 2999 (what `LocalDate` reads).
    static let date: JSONValue = ["type": "string", "format": "date", "pattern": "^(19|2[0-9])[0-9]{2}-[0-9]{2}-[0-9]{2}$", "example": "2026-12-01"]
    static func nullable(_ schema: JSONValue) -> JSONValue {
        guard case .object(var fields) = schema else { return schema }
        fields["nullable"] = true
        return .object(fields)
    }
    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }
    static func object(_ properties: [String: JSONValue], required: [String]) -> JSONValue {
        ["type": "object", "required": .array(required.map { .string($0) }), "properties": .object(properties)]
    }

    /// What the parsers accept (`MACAddress`, `IPv4Address`): anything else is a 400.
    static let mac: JSONValue = ["type": "string", "pattern": "^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$", "example": "02:00:00:00:00:10"]
    static let ipv4: JSONValue = ["type": "string", "pattern": "^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$",
                                  "example": "192.0.2.10"]
    /// A guest's IPv6 address as staff may give it: global (2000::/3) or unique-local
    /// (fc00::/7), the first group written in full, any later ones compressed by one `::`.
    static let guestIPv6: JSONValue = {
        let group = "[0-9A-Fa-f]{1,4}", first = "([23][0-9A-Fa-f]{3}|[Ff][CcDd][0-9A-Fa-f]{2})"
        // k groups after the first, then `::`, then up to 6 - k more (at least one zero group is compressed).
        let compressed = (0...6).map { k in "\(first)(:\(group)){\(k)}::" + (k < 6 ? "(\(group)(:\(group)){0,\(5 - k)})?" : "") }
        return ["type": "string", "pattern": .string("^(\(first)(:\(group)){7}|" + compressed.joined(separator: "|") + ")$"), "example": "2001:db8:1::10"]
    }()
    static let pathParameters: [String: JSONValue] = ["mac": mac]
    /// What `IdempotencyKeys.key(from:)` accepts, bare (quotes are allowed too).
    static let headerParameters: [String: JSONValue] = [
        "Idempotency-Key": ["type": "string", "pattern": "^[!#-~]{1,255}$", "example": "8e03978e-40d5-43e8-bc93-6894a57f9324"],
    ]
    static let statusList: JSONValue = {
        let one = Reservation.Status.allCases.map(\.rawValue).joined(separator: "|")
        return ["type": "string", "pattern": .string("^(\(one))(,(\(one)))*$"), "example": "confirmed,in_house"]
    }()
    static let endpointURL: JSONValue = ["type": "string", "pattern": "^https?://[^/?#\\s]+([/?#]\\S*)?$", "maxLength": 2048,
                                         "example": "https://hooks.hotel.example.com/portald"]
    static let topicList: JSONValue = ["type": "array", "minItems": 1, "maxItems": 64,
                                       "items": ["type": "string", "pattern": "^(\\*|[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*(\\.\\*)?)$", "example": "wifi.*"]]
    static let reservationStatus: JSONValue = ["type": "string", "enum": .array(Reservation.Status.allCases.map { .string($0.rawValue) })]

    /// Sent with every answer to a rate-limited token ([admin] rate_limit_per_minute).
    static let rateLimitHeaders = ["X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]

    static let components: JSONValue = [
        "securitySchemes": ["bearer": ["type": "http", "scheme": "bearer"]],
        "headers": [
            "X-RateLimit-Limit": ["schema": integer, "description": "requests this token may make a minute"],
            "X-RateLimit-Remaining": ["schema": integer, "description": "requests left in the current minute"],
            "X-RateLimit-Reset": ["schema": integer, "description": "seconds until the minute ends and the count starts again"],
            "ETag": ["schema": string, "description": "the resource's version (strong), for If-Match"],
        ],
        "responses": [
            "Unauthorized": ["description": "no or unknown bearer token", "content": ["application/json": ["schema": ref("Error")]]],
            "Forbidden": ["description": "the token lacks the scope", "content": ["application/json": ["schema": ref("Error")]]],
            "TooManyFailures": ["description": "too many failed authentications from this address within a minute ([admin] failed_auth_per_minute), or this token's requests a minute used up: refused until the minute ends (`Retry-After`)",
                                "headers": ["Retry-After": ["schema": integer, "description": "seconds"],
                                            "X-RateLimit-Limit": ["$ref": "#/components/headers/X-RateLimit-Limit"],
                                            "X-RateLimit-Remaining": ["$ref": "#/components/headers/X-RateLimit-Remaining"],
                                            "X-RateLimit-Reset": ["$ref": "#/components/headers/X-RateLimit-Reset"]],
                                "content": ["application/json": ["schema": ref("Error")]]],
        ],
        "schemas": [
            "Error": object(["error": object(["code": string, "message": string,
                                              "field": ["type": "string", "description": "the request field at fault (422)"]],
                                             required: ["code", "message"])], required: ["error"]),
            "Health": object(["status": ["type": "string", "enum": ["ok", "failing", "starting"]], "checked_at": time,
                              "checks": ["type": "object", "additionalProperties": string,
                                         "description": "store, firewall, dispatcher, portal: \"ok\" or what failed"]],
                             required: ["status", "checks"]),
            "Subject": ["type": "object", "nullable": true, "required": ["type", "id"],
                        "properties": ["type": ["type": "string", "enum": ["reservation", "code"]], "id": string]],
            "Client": object([
                "session_id": string, "mac": string, "ipv4": nullable(string), "ipv6": ["type": "array", "items": string], "tier": nullable(string),
                "subject": ref("Subject"),
                "method": ["type": "string", "enum": .array(Session.Method.allCases.map { .string($0.rawValue) })],
                "started_at": time, "expires_at": time, "seconds_remaining": integer,
            ], required: ["session_id", "mac", "ipv4", "ipv6", "tier", "method", "subject", "started_at", "expires_at", "seconds_remaining"]),
            "ClientList": object(["clients": ["type": "array", "items": ref("Client")]], required: ["clients"]),
            "DeviceRule": object([
                "mac": string, "rule": ["type": "string", "enum": ["trusted", "blocked"]], "note": nullable(string), "created_at": time,
                "ended_session": string, "previous_rule": ["type": "string", "enum": ["trusted", "blocked"]],
            ], required: ["mac", "rule", "note", "created_at"]),
            "Firewall": object([
                "backend": ["type": "string", "enum": ["nftables", "none"]], "table": string, "installed": ["type": "boolean"],
                "sets": ["type": "array", "items": object(["name": string, "elements": integer], required: ["name", "elements"])],
                "trusted": ["type": "array", "items": string], "blocked": ["type": "array", "items": string],
                "walled_garden": object(["networks": ["type": "array", "items": string], "hosts": ["type": "array", "items": string],
                                         "dnsmasq": nullable(string)], required: ["networks", "hosts", "dnsmasq"]),
                "last_reconcile": ref("Reconcile"), "last_repair": ref("Reconcile"),
            ], required: ["backend", "table", "installed", "sets", "trusted", "blocked", "walled_garden", "last_reconcile", "last_repair"]),
            "Reconcile": ["type": "object", "nullable": true, "additionalProperties": false,
                          "required": ["at", "cause", "reinstalled", "added", "added_count", "removed", "removed_count", "rules_restored", "tier_added", "tier_added_count", "tier_removed", "tier_removed_count",
                                       "garden_restored", "duration_ms", "read_back"],
                          "properties": ["at": time, "cause": string, "reinstalled": ["type": "boolean"],
                                         "added": ["type": "array", "items": string, "maxItems": 100], "added_count": ["type": "integer", "minimum": 0],
                                         "removed": ["type": "array", "items": string, "maxItems": 100], "removed_count": ["type": "integer", "minimum": 0],
                                         "rules_restored": ["type": "boolean"],
                                         "tier_added": ["type": "array", "items": string, "maxItems": 100], "tier_added_count": ["type": "integer", "minimum": 0],
                                         "tier_removed": ["type": "array", "items": string, "maxItems": 100], "tier_removed_count": ["type": "integer", "minimum": 0],
                                         "garden_restored": ["type": "boolean"], "read_back": ["type": "boolean"],
                                         "duration_ms": ["type": "number", "minimum": 0]]],
            "Status": object([
                "running": ["type": "boolean"], "version": string, "started_at": time, "uptime_seconds": ["type": "integer", "minimum": 0], "config_file": string, "site": string,
                "listeners": ["type": "array", "items": object(["name": string, "address": string], required: ["name", "address"])],
                "health": ref("Health"),
                "firewall": object(["backend": ["type": "string", "enum": ["nftables", "none"]], "table": string, "installed": ["type": "boolean"],
                                    "error": string], required: ["backend", "table", "installed"]),
                "sessions": object(["total": ["type": "integer", "minimum": 0], "by_method": ["type": "object", "additionalProperties": integer]],
                                   required: ["total", "by_method"]),
                "outbox": ["type": "array", "items": object([
                    "id": string, "status": string, "pending": integer, "dead": integer, "oldest_pending_at": nullable(time),
                    "oldest_pending_age_seconds": nullable(integer)], required: ["id", "status", "pending", "dead", "oldest_pending_at", "oldest_pending_age_seconds"])],
                "last_reconcile": ref("Reconcile"),
                "recent_errors": ["type": "array", "items": object([
                    "at": time, "level": string, "message": string, "metadata": ["type": "object", "additionalProperties": string]],
                    required: ["at", "level", "message", "metadata"])],
            ], required: ["running", "version", "started_at", "uptime_seconds", "config_file", "site", "listeners", "health", "firewall", "sessions", "outbox",
                          "last_reconcile", "recent_errors"]),
            "DeviceRuleList": object(["device_rules": ["type": "array", "items": ref("DeviceRule")]], required: ["device_rules"]),
            "DeviceRuleRequest": ["type": "object", "additionalProperties": false, "required": ["rule"],
                                  "properties": ["rule": ["type": "string", "enum": ["trusted", "blocked"]],
                                                 "note": ["type": "string", "maxLength": .number(Double(DeviceRule.noteLimit)), "nullable": true,
                                                          "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"]]],
            "AuthorizeRequest": ["type": "object", "additionalProperties": false,
                                 "not": ["required": ["ipv4", "ipv6"]], "description": "ipv4 or ipv6, not both; neither: the neighbour table's",
                                 "properties": ["ipv4": ipv4, "ipv6": guestIPv6,
                                                "minutes": ["type": "integer", "minimum": 1, "maximum": .number(Double(Session.minutesRange.upperBound))],
                                                "tier": ["type": "string", "nullable": true,
                                                         "description": "a [[firewall.tiers]] name; null: no tier; absent: [portal] tier"]]],
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
            "Guest": object(["first_name": string, "last_name": string, "email": nullable(string), "phone": nullable(string),
                             "primary": ["type": "boolean"]], required: ["first_name", "last_name", "email", "phone", "primary"]),
            "GuestInput": ["type": "object", "additionalProperties": false, "required": ["last_name"], "properties": [
                "first_name": ["type": "string", "maxLength": 100], "last_name": ["type": "string", "minLength": 1, "maxLength": 100],
                "email": nullable(["type": "string", "format": "email"]), "phone": nullable(["type": "string", "example": "+49 30 1234567"]),
                "primary": ["type": "boolean", "description": "exactly one guest is primary"],
            ]],
            "ReservationInput": ["type": "object", "additionalProperties": false,
                                 "required": ["reference", "status", "arrival", "departure", "adults", "guests"], "properties": [
                "id": ["type": "string", "description": "optional; must equal the id in the path"],
                "reference": ["type": "string", "minLength": 1, "maxLength": 64, "example": "BKG-A1B2C3"],
                "status": reservationStatus, "arrival": date, "departure": date,
                "room": nullable(["type": "string", "minLength": 1, "maxLength": 32, "example": "214"]),
                "adults": ["type": "integer", "minimum": 1, "maximum": 99],
                "children": ["type": "integer", "minimum": 0, "maximum": 99], "babies": ["type": "integer", "minimum": 0, "maximum": 99],
                "language": nullable(["type": "string", "example": "de"]),
                "guests": ["type": "array", "minItems": 1, "maxItems": 50, "items": ref("GuestInput")],
                "version": ["nullable": true, "oneOf": [["type": "integer", "minimum": 0, "maximum": .number(Double(ReservationDocument.maximumVersion))],
                                                      ["type": "string", "format": "date-time"]],
                            "description": "the source's version: a counter, or its update time (RFC 3339, kept as Unix milliseconds); an older one than stored is refused (409)"],
                "created_at": ["type": "string", "format": "date-time", "readOnly": true],
                "updated_at": ["type": "string", "format": "date-time", "readOnly": true],
                "checkin_url": ["type": "string", "nullable": true, "readOnly": true],
                "checkin_expires_at": ["type": "string", "format": "date-time", "readOnly": true],
            ]],
            "Reservation": object([
                "id": string, "reference": string, "status": reservationStatus, "arrival": date, "departure": date, "room": nullable(string),
                "adults": integer, "children": integer, "babies": integer, "language": nullable(string),
                "guests": ["type": "array", "items": ref("Guest")], "version": nullable(integer), "created_at": time, "updated_at": time,
                "checkin_url": nullable(["type": "string", "format": "uri",
                                         "description": "only in the answer that made the link (portald keeps its hash alone); null otherwise"]),
                "checkin_expires_at": time,
            ], required: ["id", "reference", "status", "arrival", "departure", "room", "adults", "children", "babies", "language",
                          "guests", "version", "created_at", "updated_at", "checkin_url", "checkin_expires_at"]),
            "Arrival": object([
                "reservation_id": string, "arrived_at": time,
                "status": ["type": "string", "enum": .array(Reservation.Status.allCases.map { .string($0.rawValue) }),
                           "description": "the reservation's status now (in_house, unless the PMS has moved it on since)"],
                "via": ["type": "string", "description": "who arrived it: guest (the check-in pages), api:<token name>, or pms (checked in at the desk)"],
                "idempotency_key": nullable(["type": "string", "description": "the key of the request that arrived it"]),
                "changed": ["type": "boolean", "description": "false when it had arrived before (nothing changed, no event)"],
            ], required: ["reservation_id", "status", "arrived_at", "via", "idempotency_key", "changed"]),
            "PersonalData": object([
                "reservation": ref("Reservation"), "exported_at": time,
                "checkin": object([
                    "confirmed_at": nullable(time), "arrived_at": nullable(time), "arrived_via": nullable(string), "idempotency_key": nullable(string),
                    "guests": ["type": "array", "items": object([
                        "position": integer, "primary": ["type": "boolean"],
                        "details": ["type": "object", "additionalProperties": string, "description": "the registration fields given, by name"],
                    ], required: ["position", "primary", "details"])],
                    "terms_signature": nullable(object([
                        "name": string, "signed_at": time, "client_address": string, "user_agent": string, "language": string,
                        "terms_version": string, "terms_sha256": string, "marketing_consent": ["type": "boolean"],
                    ], required: ["name", "signed_at", "client_address", "user_agent", "language", "terms_version", "terms_sha256", "marketing_consent"])),
                ], required: ["confirmed_at", "arrived_at", "arrived_via", "idempotency_key", "guests", "terms_signature"]),
                "wifi_sessions": ["type": "array", "items": object([
                    "session_id": string, "mac": string, "ipv4": nullable(string), "ipv6": ["type": "array", "items": string],
                    "started_at": time, "expires_at": time, "ended_at": nullable(time), "bytes_up": integer, "bytes_down": integer,
                ], required: ["session_id", "mac", "ipv4", "ipv6", "started_at", "expires_at", "ended_at", "bytes_up", "bytes_down"])],
            ], required: ["reservation", "exported_at", "checkin", "wifi_sessions"]),
            "ReservationList": object(["reservations": ["type": "array", "items": ref("Reservation")], "next_cursor": nullable(string)],
                                      required: ["reservations", "next_cursor"]),
            "TokenRequest": ["type": "object", "additionalProperties": false, "required": ["name", "scopes"], "properties": [
                "name": ["type": "string", "pattern": .string(TokensController.namePattern)],
                "scopes": ["type": "array", "minItems": 1, "items": ["type": "string", "enum": .array(AdminScope.known.sorted().map { .string($0) })]],
                "expires_in": nullable(["type": "string", "pattern": .string(TokensController.lifetimePattern), "example": "90d"]),
                "rate_limit_per_minute": nullable(["type": "integer", "minimum": 1, "maximum": 1_000_000]),
            ]],
            "Token": object(["name": string, "scopes": ["type": "array", "items": string], "created_at": nullable(time),
                             "expires_at": nullable(time), "rate_limit_per_minute": nullable(integer),
                             "managed_by": ["type": "string", "enum": ["api", "config", "local"]],
                             "token": ["type": "string", "description": "the secret: only in the answer that made it"]],
                            required: ["name", "scopes", "created_at", "expires_at", "rate_limit_per_minute", "managed_by"]),
            "TokenList": object(["tokens": ["type": "array", "items": ref("Token")]], required: ["tokens"]),
            "InboundResult": object(["result": ["type": "string", "enum": ["created", "updated", "unchanged", "deleted", "duplicate", "stale", "unknown"]],
                                     "reservation_id": string], required: ["result", "reservation_id"]),
            "WebhookEndpoint": object([
                "id": string, "url": string, "topics": ["type": "array", "items": string],
                "status": ["type": "string", "enum": ["active", "suspended", "inactive"]],
                "contentType": ["type": "string", "enum": ["default", "cloudEvents"]], "apiVersion": string,
                "ordering": ["type": "string", "enum": ["ordered", "none"]], "managed_by": ["type": "string", "enum": ["config", "api"]],
                "created_at": nullable(time), "updated_at": nullable(time),
                "secret": ["type": "string", "description": "whsec_…: only in the answer that made it (creation, rotation)"],
                "previous_secret_expires_at": nullable(time),
            ], required: ["id", "url", "topics", "status", "contentType", "apiVersion", "ordering", "managed_by", "created_at", "updated_at",
                          "previous_secret_expires_at"]),
            "WebhookEndpointList": object(["webhook_endpoints": ["type": "array", "items": ref("WebhookEndpoint")]], required: ["webhook_endpoints"]),
            "WebhookEndpointRequest": ["type": "object", "additionalProperties": false, "required": ["url", "topics"], "properties": [
                "url": endpointURL, "topics": topicList,
                "status": ["type": "string", "enum": ["active", "suspended", "inactive"]],
                "contentType": ["type": "string", "enum": ["default", "cloudEvents"]], "apiVersion": ["type": "string", "enum": ["1"]],
                "ordering": ["type": "string", "enum": ["ordered", "none"]],
            ]],
            "WebhookEndpointPatch": ["type": "object", "additionalProperties": false, "properties": [
                "url": endpointURL, "topics": topicList, "status": ["type": "string", "enum": ["active", "suspended", "inactive"]],
            ]],
            "RotateSecretRequest": ["type": "object", "additionalProperties": false, "properties": [
                "grace_period_seconds": ["type": "integer", "minimum": 0, "maximum": 2_592_000, "description": "how long the old secret keeps signing (default 86400)"],
            ]],
            "Replayed": object(["replayed": integer], required: ["replayed"]),
            "TestEvent": object(["id": string], required: ["id"]),
            "Resumed": object(["endpoint": string, "resumed": string], required: ["endpoint", "resumed"]),
        ],
    ]
}
