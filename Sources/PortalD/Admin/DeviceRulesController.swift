import Firewall
import Foundation
import HTTPServer
import Outbox

/// A trusted or blocked device as the admin API and the CLI show it.
public struct DeviceRuleView: Codable, Sendable, Equatable {
    public var mac: String
    public var rule: String
    public var note: String?
    public var createdAt: Date
    /// `PUT` that ended the device's session: that session's id.
    public var endedSession: String?
    /// `PUT` over another rule: the rule the device had.
    public var previousRule: String?

    enum CodingKeys: String, CodingKey {
        case mac, rule, note, createdAt = "created_at", endedSession = "ended_session", previousRule = "previous_rule"
    }

    init(_ rule: DeviceRule, endedSession: String? = nil, previousRule: DeviceRule.Kind? = nil) {
        mac = rule.mac.description
        self.rule = rule.kind.rawValue
        note = rule.note
        createdAt = rule.createdAt
        self.endedSession = endedSession
        self.previousRule = previousRule?.rawValue
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(mac, forKey: .mac)
        try container.encode(rule, forKey: .rule)
        try container.encode(note, forKey: .note)  // null, not absent
        try container.encode(createdAt, forKey: .createdAt)
        if let endedSession { try container.encode(endedSession, forKey: .endedSession) }
        if let previousRule { try container.encode(previousRule, forKey: .previousRule) }
    }
}

public struct DeviceRuleList: Codable, Sendable {
    public var deviceRules: [DeviceRuleView]
    enum CodingKeys: String, CodingKey { case deviceRules = "device_rules" }
}

/// What the device-rules resource needs.
protocol DeviceRuleRepository: Sendable {
    func deviceRules() throws -> [DeviceRule]
    func setRule(_ kind: DeviceRule.Kind, for mac: MACAddress, note: String?) throws -> (rule: DeviceRule, ended: Session?, previous: DeviceRule.Kind?)
    func removeRule(for mac: MACAddress, only kind: DeviceRule.Kind?) throws -> DeviceRule
}

extension SessionClientRepository: DeviceRuleRepository {
    func deviceRules() throws -> [DeviceRule] { try sessions.deviceRules() }
    func setRule(_ kind: DeviceRule.Kind, for mac: MACAddress, note: String?) throws -> (rule: DeviceRule, ended: Session?, previous: DeviceRule.Kind?) {
        try sessions.setRule(kind, for: mac, note: note)
    }
    func removeRule(for mac: MACAddress, only kind: DeviceRule.Kind?) throws -> DeviceRule { try sessions.removeRule(for: mac, only: kind) }
}

/// `/api/v1/device-rules…`: trusted devices (never captured) and blocked ones (never
/// let through), as `portald trust` and `portald block` set them.
struct DeviceRulesController {
    let repository: any DeviceRuleRepository

    func addRoutes(to api: DocumentedRoutes) {
        api.scoped(AdminScope.clientsRead).get("/device-rules", APIOperation(summary: "Trusted and blocked devices", responses: [
            200: ("every rule, by MAC", "DeviceRuleList"),
        ])) { _, _ in
            .json(DeviceRuleList(deviceRules: try repository.deviceRules().map { DeviceRuleView($0) }))
        }
        let write = api.scoped(AdminScope.clientsWrite)
        write.put("/device-rules/{mac}", APIOperation(summary: "Trust or block a device (blocking ends its session)",
                                                      body: AdminSchemas.ref("DeviceRuleRequest"), bodyRequired: true, responses: [
            200: ("the rule", "DeviceRule"), 400: ("bad request", "Error"),
        ])) { request, context in
            let mac = try ClientsController.mac(context)
            let (kind, note) = try Self.body(request)
            let (rule, ended, previous) = try repository.setRule(kind, for: mac, note: note)
            return .json(DeviceRuleView(rule, endedSession: ended?.id, previousRule: previous))
        }
        write.delete("/device-rules/{mac}", APIOperation(
            summary: "Make a trusted or blocked device an ordinary guest again",
            query: [("rule", ["type": "string", "enum": ["trusted", "blocked"]], "remove it only if it is this rule (409 otherwise)")],
            responses: [200: ("the rule removed", "DeviceRule"), 400: ("not a MAC address, or an unknown rule", "Error"),
                        404: ("no rule for this MAC", "Error"), 409: ("the device has the other rule", "Error")]
        )) { request, context in
            let mac = try ClientsController.mac(context)
            var only: DeviceRule.Kind?
            if let text = request.query["rule"] {
                guard let kind = DeviceRule.Kind(rawValue: text) else {
                    throw HTTPError.badRequest("invalid_rule", "rule must be \"trusted\" or \"blocked\", not \"\(text)\"")
                }
                only = kind
            }
            return .json(DeviceRuleView(try repository.removeRule(for: mac, only: only)))
        }
    }

    /// `{"rule": "trusted" | "blocked", "note"?: string}`; anything else is named.
    static func body(_ request: HTTPRequest) throws -> (DeviceRule.Kind, String?) {
        let shape = "the body must be a JSON object {\"rule\": \"trusted\" | \"blocked\", \"note\"?: string}"
        guard case .object(let fields)? = JSONValue(json: request.body) else { throw HTTPError.badRequest("invalid_json", shape) }
        if let unknown = fields.keys.sorted().first(where: { $0 != "rule" && $0 != "note" }) {
            throw HTTPError.badRequest("unknown_field", "unknown field \"\(unknown)\": \(shape)")
        }
        guard case .string(let text)? = fields["rule"], let kind = DeviceRule.Kind(rawValue: text) else {
            throw HTTPError.badRequest("invalid_rule", shape)
        }
        switch fields["note"] {
        case nil, .null?: return (kind, nil)
        case .string(let note)?: return (kind, note)
        default: throw HTTPError.badRequest("invalid_note", shape)
        }
    }
}
