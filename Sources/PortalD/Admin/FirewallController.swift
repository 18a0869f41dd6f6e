import Firewall
import Foundation
import HTTPServer

/// `portald firewall show`: the capture as the kernel holds it.
public struct FirewallStatusView: Codable, Sendable {
    public struct SetCount: Codable, Sendable {
        public var name: String
        public var elements: Int
    }

    /// A reconciliation, or the install at start (`cause` "start").
    public struct ReconcileView: Codable, Sendable {
        public var at: Date
        public var cause: String
        public var reinstalled: Bool
        /// Elements put back (`MAC . address`), the first `listed` of them.
        public var added: [String]
        public var addedCount: Int
        /// Elements no session stood for, taken out, the first `listed` of them.
        public var removed: [String]
        public var removedCount: Int
        public var rulesRestored: Bool
        /// Addresses put into their device's tier's sets, and taken out of a tier's their
        /// device is not in: the first `listed` of each.
        public var tierAdded: [String]
        public var tierAddedCount: Int
        public var tierRemoved: [String]
        public var tierRemovedCount: Int
        /// The walled garden's networks were put back.
        public var gardenRestored: Bool
        /// How many elements a record names: a reinstall adds every guest, and 10 000 names
        /// help no one reading it.
        static let listed = 100
        /// Milliseconds it took (reading the sets back and repairing; at start, the install).
        public var durationMs: Double
        /// Whether the sets were read back (false: the ruleset's generation showed only
        /// portald's own changes since the last read-back).
        public var readBack: Bool

        enum CodingKeys: String, CodingKey {
            case at, cause, reinstalled, added, addedCount = "added_count", removed, removedCount = "removed_count"
            case rulesRestored = "rules_restored", tierAdded = "tier_added", tierAddedCount = "tier_added_count", tierRemoved = "tier_removed"
            case tierRemovedCount = "tier_removed_count", gardenRestored = "garden_restored", durationMs = "duration_ms", readBack = "read_back"
        }

        init(_ record: SessionService.ReconcileRecord) {
            at = record.at
            cause = record.cause
            reinstalled = record.repair.reinstalled
            added = record.repair.added.prefix(Self.listed).map(\.description)
            addedCount = record.repair.added.count
            removed = record.repair.removed.prefix(Self.listed).map(\.description)
            removedCount = record.repair.removed.count
            rulesRestored = record.repair.rulesRestored
            readBack = record.readBack
            tierAdded = record.repair.extras.tierAdded.prefix(Self.listed).map(\.description)
            tierAddedCount = record.repair.extras.tierAdded.count
            tierRemoved = record.repair.extras.tierRemoved.prefix(Self.listed).map(\.description)
            tierRemovedCount = record.repair.extras.tierRemoved.count
            gardenRestored = record.repair.extras.gardenRestored
            let parts = record.duration.components
            durationMs = ((Double(parts.seconds) * 1000 + Double(parts.attoseconds) / 1e15) * 1000).rounded() / 1000
        }
    }

    /// `[firewall] walled_garden`, and the dnsmasq line for its host names.
    public struct GardenView: Codable, Sendable {
        public var networks: [String]
        public var hosts: [String]
        public var dnsmasq: String?

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(networks, forKey: .networks)
            try container.encode(hosts, forKey: .hosts)
            try container.encode(dnsmasq, forKey: .dnsmasq)  // null, not absent
        }
    }

    public var backend: String
    public var table: String
    /// Whether the table is there (always false with `backend = "none"`, which has none).
    public var installed: Bool
    public var sets: [SetCount]
    public var trusted: [String]
    public var blocked: [String]
    public var walledGarden: GardenView
    public var lastReconcile: ReconcileView?
    /// The last reconciliation that changed something.
    public var lastRepair: ReconcileView?

    enum CodingKeys: String, CodingKey {
        case backend, table, installed, sets, trusted, blocked, walledGarden = "walled_garden", lastReconcile = "last_reconcile", lastRepair = "last_repair"
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(backend, forKey: .backend)
        try container.encode(table, forKey: .table)
        try container.encode(installed, forKey: .installed)
        try container.encode(sets, forKey: .sets)
        try container.encode(trusted, forKey: .trusted)
        try container.encode(blocked, forKey: .blocked)
        try container.encode(walledGarden, forKey: .walledGarden)
        try container.encode(lastReconcile, forKey: .lastReconcile)  // null, not absent
        try container.encode(lastRepair, forKey: .lastRepair)
    }
}

/// Where the status comes from: the session service's firewall and its reconciler.
struct FirewallStatus: Sendable {
    let sessions: SessionService
    let backend: String
    let table: String
    /// The walled garden as configured now (a reload changes it).
    var garden: @Sendable () -> Config.WalledGarden = { Config.WalledGarden() }

    func view() throws -> FirewallStatusView {
        let captures = backend != "none"
        let inventory = captures ? try sessions.firewall.inventory() : nil
        // What the kernel's sets hold, so an edit behind portald's back shows; the rules without a table.
        let rules = (captures ? try sessions.firewall.kernelRules() : nil) ?? sessions.firewall.deviceRules
        let records = sessions.reconcileRecords()
        return FirewallStatusView(
            backend: backend, table: table, installed: inventory != nil,
            sets: (inventory ?? []).map { FirewallStatusView.SetCount(name: $0.set, elements: $0.elements) },
            trusted: rules.trusted.sorted().map(\.description), blocked: rules.blocked.sorted().map(\.description),
            walledGarden: .init(networks: garden().networks.map(\.description), hosts: garden().hosts, dnsmasq: garden().dnsmasqLine(table: table)),
            lastReconcile: records.last.map(FirewallStatusView.ReconcileView.init), lastRepair: records.lastRepair.map(FirewallStatusView.ReconcileView.init))
    }
}

/// `GET /api/v1/firewall`.
struct FirewallController {
    let status: FirewallStatus

    func addRoutes(to api: DocumentedRoutes) {
        api.scoped(AdminScope.firewallRead).get("/firewall", APIOperation(summary: "The capture: its table, sets and their sizes, trusted and blocked devices, what the reconciler last changed", responses: [
            200: ("the firewall's state", "Firewall"), 503: ("the kernel could not be read", "Error"),
        ])) { _, _ in
            do {
                return .json(try status.view())
            } catch let error as FirewallError {
                throw HTTPError.serviceUnavailable("firewall_error", "reading the firewall failed: \(error)")
            }
        }
    }
}
