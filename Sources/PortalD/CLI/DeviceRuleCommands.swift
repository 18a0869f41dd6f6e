import ArgumentParser
import Firewall
import Foundation
import HTTPServer
import Outbox

/// `portald trust MAC [--note]`: never captured (staff devices, printers, smart TVs).
struct Trust: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Never capture a device (a printer, a smart TV, a staff laptop).")
    @OptionGroup var options: ConfigOptions
    @Argument(help: "The device's MAC address.") var mac: String
    @Option(help: "What the device is, for the next person reading the list.") var note: String?
    @Flag(help: "Print typed JSON.") var json = false

    func run() async throws {
        try await setRule(.trusted, mac: mac, note: note, options: options, json: json)
    }
}

/// `portald block MAC [--note]`: never let through; it sees a "blocked" page.
struct Block: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Never let a device online; its session ends now.")
    @OptionGroup var options: ConfigOptions
    @Argument(help: "The device's MAC address.") var mac: String
    @Option(help: "Why, for the next person reading the list.") var note: String?
    @Flag(help: "Print typed JSON.") var json = false

    func run() async throws {
        try await setRule(.blocked, mac: mac, note: note, options: options, json: json)
    }
}

/// `portald untrust MAC` / `portald unblock MAC`: an ordinary guest again.
struct Untrust: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make a trusted device an ordinary guest again.")
    @OptionGroup var options: ConfigOptions
    @Argument(help: "The device's MAC address.") var mac: String

    func run() async throws { try await removeRule(.trusted, mac: mac, options: options) }
}

struct Unblock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Let a blocked device log in again.")
    @OptionGroup var options: ConfigOptions
    @Argument(help: "The device's MAC address.") var mac: String

    func run() async throws { try await removeRule(.blocked, mac: mac, options: options) }
}

/// `portald devices [--json]`: the trusted and blocked devices.
struct Devices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the trusted and blocked devices.")
    @OptionGroup var options: ConfigOptions
    @Flag(help: "Print typed JSON.") var json = false

    func run() async throws {
        try await reporting {
            let data = try await options.adminClient().send("GET", "/api/v1/device-rules")
            if json { return print(String(decoding: data, as: UTF8.self)) }
            let rules = try JSON.decoder().decode(DeviceRuleList.self, from: data).deviceRules
            guard !rules.isEmpty else { return print("no trusted or blocked devices") }
            print(TextTable.render(["MAC", "RULE", "SINCE (UTC)", "NOTE"], rules.map { [$0.mac, $0.rule, RFC3339.string($0.createdAt), $0.note ?? ""] }))
        }
    }
}

extension AsyncParsableCommand {
    fileprivate func setRule(_ kind: DeviceRule.Kind, mac: String, note: String?, options: ConfigOptions, json: Bool) async throws {
        try await reporting {
            var body: [String: AnyEncodable] = ["rule": AnyEncodable(kind.rawValue)]
            if let note { body["note"] = AnyEncodable(note) }
            let data = try await options.adminClient().send("PUT", "/api/v1/device-rules/\(FormData.encode(mac))", body: JSON.encode(body))
            if json { return print(String(decoding: data, as: UTF8.self)) }
            let rule = try JSON.decoder().decode(DeviceRuleView.self, from: data)
            print("\(rule.mac) is \(rule.rule)" + (rule.previousRule.map { " (was \($0))" } ?? "")
                  + (rule.endedSession.map { "; its session \($0) ended" } ?? ""))
        }
    }

    fileprivate func removeRule(_ kind: DeviceRule.Kind, mac: String, options: ConfigOptions) async throws {
        try await reporting {
            guard let parsed = MACAddress(mac) else { throw CLIError("\"\(mac)\" is not a MAC address (aa:bb:cc:dd:ee:ff)") }
            // Only the rule asked about (checked in the same write): `untrust` must not unblock.
            do {
                _ = try await options.adminClient().send("DELETE", "/api/v1/device-rules/\(FormData.encode(parsed.description))?rule=\(kind.rawValue)")
            } catch let error as CLIError where error.code == "not_found" {
                throw CLIError("\(parsed) is not \(kind.rawValue)")
            } catch let error as CLIError where error.code == "rule_mismatch" {
                throw CLIError("\(error.description); nothing changed")
            }
            print("\(parsed) is no longer \(kind.rawValue)")
        }
    }
}
