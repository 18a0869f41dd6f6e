import ArgumentParser
import Foundation
import Outbox

/// `portald firewall show [--json]`: what IT looks at when a guest cannot get online.
struct FirewallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "firewall", abstract: "Look at the capture.", subcommands: [Show.self],
                                                    defaultSubcommand: Show.self)

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The table, its sets with their element counts, trusted and blocked devices, and what the reconciler last changed.")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Print typed JSON.") var json = false

        func run() async throws {
            try await reporting {
                let data = try await options.adminClient().send("GET", "/api/v1/firewall")
                if json { return print(String(decoding: data, as: UTF8.self)) }
                print(Self.render(try JSON.decoder().decode(FirewallStatusView.self, from: data)))
            }
        }

        static func render(_ status: FirewallStatusView) -> String {
            var lines = ["table inet \(status.table): " + (status.backend == "none" ? "none (backend \"none\": nothing is captured)"
                                                            : status.installed ? "installed" : "MISSING (the reconciler installs it again)")]
            if !status.sets.isEmpty {
                lines += ["", TextTable.render(["SET", "ELEMENTS"], status.sets.map { [$0.name, String($0.elements)] })]
            }
            lines += ["", "trusted: " + (status.trusted.isEmpty ? "none" : status.trusted.joined(separator: ", ")),
                      "blocked: " + (status.blocked.isEmpty ? "none" : status.blocked.joined(separator: ", ")),
                      "walled garden: " + (status.walledGarden.networks + status.walledGarden.hosts).joined(separator: ", ").ifEmpty("none")]
            if let dnsmasq = status.walledGarden.dnsmasq { lines.append("  dnsmasq: \(dnsmasq)") }
            lines.append("")
            lines.append("last reconcile: " + (status.lastReconcile.map(describe) ?? "not yet"))
            lines.append("last repair: " + (status.lastRepair.map(describe) ?? "none"))
            return lines.joined(separator: "\n")
        }

        static func describe(_ record: FirewallStatusView.ReconcileView) -> String {
            var changes: [String] = []
            func names(_ listed: [String], of count: Int) -> String {
                listed.joined(separator: ", ") + (count > listed.count ? " and \(count - listed.count) more" : "")
            }
            if record.reinstalled { changes.append("table installed" + (record.addedCount == 0 ? "" : " with \(record.addedCount) element(s)")) }
            if !record.reinstalled && record.addedCount > 0 { changes.append("added " + names(record.added, of: record.addedCount)) }
            if record.removedCount > 0 { changes.append("removed " + names(record.removed, of: record.removedCount)) }
            if record.rulesRestored { changes.append("trusted/blocked sets put back") }
            if record.tierAddedCount > 0 { changes.append("into their tier " + names(record.tierAdded, of: record.tierAddedCount)) }
            if record.tierRemovedCount > 0 { changes.append("out of a tier " + names(record.tierRemoved, of: record.tierRemovedCount)) }
            if record.gardenRestored { changes.append("walled garden networks put back") }
            let nothing = record.readBack ? "nothing to change" : "unchanged since the last read-back (only portald's own commits)"
            return "\(RFC3339.string(record.at)) (\(record.cause), \(record.durationMs) ms): " + (changes.isEmpty ? nothing : changes.joined(separator: "; "))
        }
    }
}

extension String {
    fileprivate func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}
