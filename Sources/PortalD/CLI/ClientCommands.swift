import ArgumentParser
import Firewall
import Foundation
import HTTPServer
import Outbox

struct Clients: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the devices that are online.")
    @OptionGroup var options: ConfigOptions
    @Flag(help: "Print typed JSON.") var json = false

    func run() async throws {
        try await reporting {
            let client = try options.adminClient()
            let data = try await client.send("GET", "/api/v1/clients")
            if json {
                print(String(decoding: data, as: UTF8.self))
                return
            }
            let list = try JSON.decoder().decode(ClientList.self, from: data)
            print(ClientTable.render(list.clients))
        }
    }
}

struct Auth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Let a device online without a login.")
    @OptionGroup var options: ConfigOptions
    @Argument(help: "The device's MAC address.") var mac: String
    @Option(help: "Its IPv4 or IPv6 address (default: looked up in the LAN's neighbour table).") var ip: String?
    @Option(help: "Its bandwidth tier, a [[firewall.tiers]] name (default: [portal] tier).") var tier: String?
    @Flag(help: "No tier: not limited, whatever [portal] tier says.") var noTier = false
    // Unconditional: `--minutes -5` is a bad value to name, not a missing one.
    @Option(parsing: .unconditional, help: "Session length in minutes, 1 to \(Session.minutesRange.upperBound) (default: [portal] session_minutes).") var minutes: Int?
    @Flag(help: "Print typed JSON.") var json = false

    func validate() throws {
        if let minutes, !Session.minutesRange.contains(minutes) {
            throw ValidationError("--minutes must be between 1 and \(Session.minutesRange.upperBound) (a year), not \(minutes)")
        }
        if tier != nil && noTier { throw ValidationError("give --tier or --no-tier, not both") }
        if let ip, IPAddress(ip) == nil { throw ValidationError("--ip: \(ip) is not an IPv4 or IPv6 address") }
    }

    func run() async throws {
        try await reporting {
            var body: [String: AnyEncodable] = [:]
            if let ip { body[IPAddress(ip)?.family ?? "ipv4"] = AnyEncodable(ip) }
            if let minutes { body["minutes"] = AnyEncodable(minutes) }
            if let tier { body["tier"] = AnyEncodable(tier) }
            if noTier { body["tier"] = AnyEncodable(String?.none) }
            let client = try options.adminClient()
            do {
                let data = try await client.send("POST", "/api/v1/clients/\(FormData.encode(mac))/auth", body: JSON.encode(body))
                try printClient(data, json: json, verb: "authorized")
            } catch let error as CLIError where error.code == "device_not_found" {
                // The API names its field; here the person typed flags.
                throw CLIError("\(mac) is not in the LAN's neighbour table (is the device connected?); give its address with --ip")
            } catch let error as CLIError where error.code == "invalid_ipv4" || error.code == "invalid_ipv6" {
                throw CLIError("--ip: \(error.description)")
            } catch let error as CLIError where error.code == "invalid_tier" {
                throw CLIError("--tier: \(error.description)")
            }
        }
    }
}

struct Deauth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "End a device's session; it is captured again.")
    @OptionGroup var options: ConfigOptions
    @Argument(help: "The device's MAC address.") var mac: String
    @Flag(help: "Print typed JSON.") var json = false

    func run() async throws {
        try await reporting {
            let client = try options.adminClient()
            let data = try await client.send("POST", "/api/v1/clients/\(FormData.encode(mac))/deauth")
            try printClient(data, json: json, verb: "deauthorized")
        }
    }
}

private func printClient(_ data: Data, json: Bool, verb: String) throws {
    if json {
        print(String(decoding: data, as: UTF8.self))
    } else {
        let client = try JSON.decoder().decode(ClientView.self, from: data)
        let addresses = ([client.ipv4].compactMap { $0 } + client.ipv6).joined(separator: ", ")
        print("\(verb) \(client.mac) (\(addresses)), session \(client.sessionID)")
    }
}

struct AnyEncodable: Encodable {
    let encodeValue: (Encoder) throws -> Void
    init<T: Encodable>(_ value: T) { encodeValue = value.encode }
    func encode(to encoder: Encoder) throws { try encodeValue(encoder) }
}

enum ClientTable {
    static func render(_ clients: [ClientView]) -> String {
        guard !clients.isEmpty else { return "no devices online" }
        return TextTable.render(["MAC", "IPV4", "IPV6", "METHOD", "STARTED (UTC)", "REMAINING"], clients.map { client in
            [client.mac, client.ipv4 ?? "-", client.ipv6.isEmpty ? "-" : client.ipv6.joined(separator: " "), client.method,
             RFC3339.string(client.startedAt), duration(client.secondsRemaining)]
        })
    }

    static func duration(_ seconds: Int) -> String {
        let hours = seconds / 3600, minutes = seconds % 3600 / 60
        return hours > 0 ? "\(hours)h\(minutes)m" : "\(minutes)m\(seconds % 60)s"
    }
}
