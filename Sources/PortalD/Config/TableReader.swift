import Arrivals
import Foundation
import HTTPServer
import Outbox
import TOMLKit

/// Reads one TOML table with errors that name the key (`[portal] session_minutes: …`)
/// and remembers which keys were read, so a misspelt key is reported, not ignored.
final class TableReader {
    private let table: TOMLTable?
    /// How errors name this table; an array entry is renamed once its id is known.
    var path: String
    private var used: Set<String> = []

    init(_ table: TOMLTable?, path: String) {
        self.table = table
        self.path = path
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path) \(key)" }

    func has(_ key: String) -> Bool { table?[key] != nil }
    /// The table's keys (for tables whose keys are data, like a status map).
    var keys: [String] { table?.keys.sorted() ?? [] }
    private func value(_ key: String) -> TOMLValueConvertible? {
        used.insert(key)
        return table?[key]
    }

    func table(_ key: String) throws -> TableReader {
        guard value(key) != nil else { throw ConfigError("missing section [\(key)]") }
        return try optionalTable(key)
    }

    func optionalTable(_ key: String) throws -> TableReader {
        guard let found = value(key) else { return TableReader(nil, path: "[\(key)]") }
        guard let table = found.table else { throw ConfigError("\(name(key)): expected a table [\(key)], got \(found.type)") }
        return TableReader(table, path: "[\(key)]")
    }

    func arrayOfTables(_ key: String) throws -> [TableReader] {
        guard let found = value(key) else { return [] }
        guard let array = found.array else { throw ConfigError("\(name(key)): expected an array of tables [[…\(key)]], got \(found.type)") }
        return try array.enumerated().map { index, item in
            guard let table = item.table else { throw ConfigError("\(name(key)) #\(index + 1): expected a table") }
            let parent = path.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            return TableReader(table, path: "[[\(parent.isEmpty ? "" : parent + ".")\(key)]] #\(index + 1)")
        }
    }

    func string(_ key: String, default fallback: String? = nil, matching pattern: String? = nil, hint: String = "") throws -> String {
        let text: String
        if let found = value(key) {
            guard let string = found.string else { throw ConfigError("\(name(key)): expected a string, got \(found.type)") }
            text = string
        } else if let fallback {
            return fallback
        } else {
            throw ConfigError("\(name(key)): required key is missing")
        }
        if let pattern, text.range(of: pattern, options: .regularExpression) == nil {
            throw ConfigError("\(name(key)): \"\(text)\" is not valid (\(hint))")
        }
        if text.isEmpty && pattern == nil { throw ConfigError("\(name(key)): must not be empty") }
        return text
    }

    func stringArray(_ key: String) throws -> [String] {
        guard let found = value(key) else { throw ConfigError("\(name(key)): required key is missing") }
        guard let array = found.array else { throw ConfigError("\(name(key)): expected an array of strings, got \(found.type)") }
        return try array.map { item in
            guard let string = item.string else { throw ConfigError("\(name(key)): expected an array of strings") }
            return string
        }
    }

    func optionalStringArray(_ key: String) throws -> [String]? {
        guard has(key) else { return nil }
        return try stringArray(key)
    }

    /// An RFC 3339 time, written as a TOML date-time or a string.
    func dateTime(_ key: String) throws -> Date {
        guard let found = value(key) else { throw ConfigError("\(name(key)): required key is missing") }
        let text = found.string ?? found.dateTime.map { "\($0)" } ?? ""
        guard let date = RFC3339.date(text) else {
            throw ConfigError("\(name(key)): expected an RFC 3339 time like 2026-12-01T00:00:00Z")
        }
        return date
    }

    func int(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let found = value(key) else { return fallback }
        guard let number = found.int else { throw ConfigError("\(name(key)): expected an integer, got \(found.type)") }
        guard range.contains(number) else {
            throw ConfigError("\(name(key)): \(number) is out of range (\(range.lowerBound)–\(range.upperBound))")
        }
        return number
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard let found = value(key) else { return fallback }
        guard let flag = found.bool else { throw ConfigError("\(name(key)): expected true or false, got \(found.type)") }
        return flag
    }

    /// A time of day, `"HH:MM"` (24-hour clock).
    func timeOfDay(_ key: String, default fallback: TimeOfDay) throws -> TimeOfDay {
        guard value(key) != nil else { return fallback }
        let text = try string(key)
        guard let time = TimeOfDay(text) else { throw ConfigError("\(name(key)): \"\(text)\" is not a time of day like \"11:00\" (HH:MM, 24-hour)") }
        return time
    }

    func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, default fallback: E) throws -> E where E.RawValue == String {
        guard value(key) != nil else { return fallback }
        let text = try string(key)
        guard let result = E(rawValue: text) else {
            let choices = E.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw ConfigError("\(name(key)): \"\(text)\" is not one of \(choices)")
        }
        return result
    }

    func listenAddress(_ key: String, default fallback: String? = nil) throws -> ListenAddress {
        let text = try string(key, default: fallback)
        guard let address = ListenAddress(text) else {
            throw ConfigError("\(name(key)): \"\(text)\" is not host:port (e.g. \"192.0.2.1:8080\" or \"[2001:db8::1]:8080\")")
        }
        return address
    }

    /// An http(s) URL with a host; `plain`: also without query or fragment (a base that paths are appended to).
    func url(_ key: String, plain: Bool = false) throws -> URL {
        let text = try string(key)
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty else {
            throw ConfigError("\(name(key)): \"\(text)\" is not an http(s) URL with a host")
        }
        if plain && (url.query != nil || url.fragment != nil) {
            throw ConfigError("\(name(key)): \"\(text)\" has a query or fragment; links are made by appending /arrive/<token>")
        }
        return url
    }

    /// A secret given inline (`key`), in a file (`key_file`) or in the environment (`key_env`).
    func secret(_ key: String, from secrets: SecretSource, resolve: (String) -> String) throws -> String {
        let inline = value(key)?.string
        let file = value("\(key)_file")?.string
        let env = value("\(key)_env")?.string
        let given = [inline, file, env].compactMap { $0 }
        guard given.count == 1 else {
            throw ConfigError("\(name(key)): give exactly one of \(key), \(key)_file or \(key)_env")
        }
        if let inline { return inline }
        if let file {
            guard let data = FileManager.default.contents(atPath: resolve(file)), let text = String(data: data, encoding: .utf8) else {
                if !secrets.required { return SecretSource.unread }
                throw ConfigError("\(name("\(key)_file")): cannot read \(resolve(file))")
            }
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let env, let text = secrets.environment[env], !text.isEmpty else {
            if !secrets.required { return SecretSource.unread }
            throw ConfigError("\(name("\(key)_env")): environment variable \(env ?? "") is not set")
        }
        return text
    }

    func rejectUnknownKeys() throws {
        guard let table else { return }
        let unknown = Set(table.keys).subtracting(used).sorted()
        if let first = unknown.first {
            throw ConfigError("\(name(first)): unknown key")
        }
    }

    /// Checked before anything is read, so a misspelt key is named as such rather than
    /// reported as the required key it was meant to be (`topic` for `topics`).
    func rejectUnknownKeys(allowing known: Set<String>, sections: Bool = false) throws {
        guard let table else { return }
        for key in table.keys.sorted() where !known.contains(key) {
            let guess = known.min { Self.distance(key, $0) < Self.distance(key, $1) }.flatMap { Self.distance(key, $0) <= 2 ? $0 : nil }
            let what = sections ? "[\(key)]: unknown section" : "\(name(key)): unknown key"
            throw ConfigError(what + (guess.map { sections ? " (did you mean [\($0)]?)" : " (did you mean \($0)?)" } ?? ""))
        }
    }

    /// Levenshtein distance, for "did you mean".
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}

/// Where the secrets given as `*_env` and `*_file` come from.
struct SecretSource {
    let environment: [String: String]
    /// False for the CLI's control verbs: they talk to the running daemon and use no
    /// secret of the file, so one the admin's shell cannot read (a `*_env` the unit's
    /// `EnvironmentFile=` sets, a `*_file` only the service may read) is not their error.
    let required: Bool

    /// What stands for a secret that was not read: of every secret's shape (`whsec_`,
    /// 32 characters and more), and never used: such a config never serves.
    static let unread = "whsec_" + Data(count: 32).base64EncodedString()
}

