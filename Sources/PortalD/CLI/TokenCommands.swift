import ArgumentParser
import Foundation
import HTTPServer
import Outbox

struct TokensCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens", abstract: "Make, list and revoke admin API tokens for the hotel's systems.",
        subcommands: [Create.self, List.self, Revoke.self], defaultSubcommand: List.self)

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a token and print it (once: portald keeps only its hash).")
        @OptionGroup var options: ConfigOptions
        @Option(help: "A name for logs and `tokens revoke` (letters, digits, '.', '_', '-').") var name: String
        @Option(name: .customLong("scope"), help: "A scope it grants (repeat): \(AdminScope.known.sorted().joined(separator: ", ")).")
        var scopes: [String] = []
        @Option(help: "It stops working after this long (e.g. 90d, 12h); without it, it lasts until revoked.") var expires: String?
        @Option(name: .customLong("rate-limit"), help: "Requests a minute (default: [admin] rate_limit_per_minute).") var rateLimit: Int?
        @Flag(help: "Print typed JSON.") var json = false

        func validate() throws {
            guard !scopes.isEmpty else { throw ValidationError("give at least one --scope (\(AdminScope.known.sorted().joined(separator: ", ")))") }
            if let unknown = scopes.first(where: { !AdminScope.known.contains($0) }) {
                throw ValidationError("--scope \(unknown): unknown scope (known: \(AdminScope.known.sorted().joined(separator: ", ")))")
            }
            if let expires, TokensController.lifetime(expires) == nil {
                throw ValidationError("--expires \(expires): not a lifetime like 90d, 12h or 30m (1 to 9999 of s, m, h or d)")
            }
            if let rateLimit, !(1...1_000_000).contains(rateLimit) { throw ValidationError("--rate-limit must be between 1 and 1000000") }
        }

        func run() async throws {
            try await reporting {
                var body: [String: AnyEncodable] = ["name": AnyEncodable(name), "scopes": AnyEncodable(scopes)]
                if let expires { body["expires_in"] = AnyEncodable(expires) }
                if let rateLimit { body["rate_limit_per_minute"] = AnyEncodable(rateLimit) }
                let data = try await options.adminClient().send("POST", "/api/v1/tokens", body: JSON.encode(body))
                if json { return print(String(decoding: data, as: UTF8.self)) }
                let token = try JSON.decoder().decode(TokenView.self, from: data)
                print(token.token ?? "")
                FileHandle.standardError.write(Data(("token \(token.name) (\(token.scopes.joined(separator: " "))"
                    + (token.expiresAt.map { ", expires \(RFC3339.string($0))" } ?? "") + "): shown once, store it now\n").utf8))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every token that opens the API (never a secret).")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Print typed JSON.") var json = false

        func run() async throws {
            try await reporting {
                let data = try await options.adminClient().send("GET", "/api/v1/tokens")
                if json { return print(String(decoding: data, as: UTF8.self)) }
                let tokens = try JSON.decoder().decode([String: [TokenView]].self, from: data)["tokens"] ?? []
                print(TextTable.render(["NAME", "SCOPES", "FROM", "CREATED (UTC)", "EXPIRES (UTC)", "PER MINUTE"], tokens.map {
                    [$0.name, $0.scopes.joined(separator: " "), $0.managedBy, $0.createdAt.map(RFC3339.string) ?? "-",
                     $0.expiresAt.map(RFC3339.string) ?? "never", $0.rateLimitPerMinute.map(String.init) ?? "unlimited"]
                }))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token; it stops working at once.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The token's name.") var name: String

        func run() async throws {
            try await reporting {
                _ = try await options.adminClient().send("DELETE", "/api/v1/tokens/\(FormData.encode(name))")
                print("revoked token \(name)")
            }
        }
    }
}
