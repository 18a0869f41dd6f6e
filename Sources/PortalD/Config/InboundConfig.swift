import Arrivals
import Foundation
import Outbox

extension TableReader {
    /// `[[inbound]]`: the sources that push reservations. (Their shared listener is
    /// `[inbound_listener] listen`: TOML cannot have both `[inbound]` and `[[inbound]]`.)
    func inboundSources(secrets: SecretSource, resolve: (String) -> String) throws -> [InboundSource] {
        var sources: [InboundSource] = []
        for entry in try arrayOfTables("inbound") {
            let id = try entry.string("id", matching: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", hint: "letters, digits, '.', '_' or '-'")
            entry.path = "[[inbound]] \"\(id)\""
            guard !sources.contains(where: { $0.id == id }) else { throw ConfigError("\(entry.name("id")): \"\(id)\" is used by two sources") }
            let formatText = try entry.string("format")
            guard let format = InboundSource.Format(rawValue: formatText) else {
                throw ConfigError("\(entry.name("format")): \"\(formatText)\" is not one of \"guest\", \"standard\"")
            }
            let authentication: InboundSource.Authentication
            switch format {
            case .standard:
                authentication = .standardWebhooks([try entry.webhookSecret("secret", from: secrets, resolve: resolve)])
            case .guest:
                enum Scheme: String, CaseIterable { case signature, bearer }
                switch try entry.enumeration("auth", default: Scheme.signature) {
                case .signature:
                    let secret = try entry.secret("secret", from: secrets, resolve: resolve)
                    guard secret.utf8.count >= 16 else { throw ConfigError("\(entry.name("secret")): at least 16 characters") }
                    authentication = .bodySignature(key: Array(secret.utf8))
                case .bearer:
                    let token = try entry.secret("token", from: secrets, resolve: resolve)
                    // Long enough that no rate of guessing finds it.
                    guard token.utf8.count >= 32 else { throw ConfigError("\(entry.name("token")): at least 32 characters (e.g. `openssl rand -base64 32`)") }
                    authentication = .bearer(token: Array(token.utf8))
                }
            }
            var statusMap = GuestReservation.defaultStatusMap
            if entry.has("status_map") {
                guard format == .guest else { throw ConfigError("\(entry.name("status_map")): only for format = \"guest\"") }
                let table = try entry.optionalTable("status_map")
                table.path = "[inbound.status_map] of \"\(id)\""
                statusMap = [:]
                for key in table.keys {
                    guard let code = Int(key) else { throw ConfigError("\(table.name(key)): keys are GUEST's rsvStatus numbers, like \"4\"") }
                    statusMap[code] = try table.enumeration(key, default: Reservation.Status.confirmed)
                }
                try table.rejectUnknownKeys()
                guard !statusMap.isEmpty else { throw ConfigError("\(entry.name("status_map")): map at least one rsvStatus number, or leave it out for the default") }
            }
            let versionField = entry.has("version_field") ? try entry.string("version_field", matching: "^[A-Za-z_][A-Za-z0-9_]{0,63}$", hint: "a DTO field name") : nil
            if versionField != nil && format != .guest { throw ConfigError("\(entry.name("version_field")): only for format = \"guest\"") }
            try entry.rejectUnknownKeys()
            sources.append(InboundSource(id: id, format: format, authentication: authentication, statusMap: statusMap, versionField: versionField))
        }
        return sources
    }
}
