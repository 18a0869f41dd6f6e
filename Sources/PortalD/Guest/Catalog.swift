import Foundation
import Synchronization

/// Every sentence a guest sees, in one language: a flat map of keys to messages.
///
/// A message may hold `{name}` placeholders, filled in from the page's arguments
/// (`{site}` is always there), and may be plural: an object of CLDR categories
/// (`zero`, `one`, `two`, `few`, `many`, `other`) chosen by the `count` argument
/// with the language's plural rule. `formats.date_time` is an ICU skeleton
/// (`yMMMdHHmm`), so each language gets its own order, month names and clock.
public struct Catalog: Sendable {
    public enum Message: Sendable, Equatable {
        case text(String)
        case plural([PluralCategory: String])
    }

    public let language: String
    public let messages: [String: Message]
    /// What the file itself said; an overlay that leaves them out keeps the base's.
    private let explicitName: String?
    private let explicitSkeleton: String?

    public var name: String { explicitName ?? language }
    public var dateTimeSkeleton: String { explicitSkeleton ?? "yMMMdHHmm" }
    /// Every dotted prefix of a key, with its dot ("online.", "error.404."): how a
    /// template's `{{t.online.title}}` walks down without scanning every key.
    let groups: Set<String>

    /// Parses a catalog file; errors name the file and the key.
    public init(json: [UInt8], source: String) throws {
        guard let root = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any] else {
            throw CatalogError("\(source): not a JSON object")
        }
        guard let language = root["language"] as? String, language.range(of: "^[a-z]{2,3}$", options: .regularExpression) != nil else {
            throw CatalogError("\(source): \"language\" must be a language code like \"en\"")
        }
        guard let texts = root["texts"] as? [String: Any] else { throw CatalogError("\(source): \"texts\" must be an object") }
        var messages: [String: Message] = [:]
        for (key, value) in texts {
            if let text = value as? String {
                messages[key] = .text(text)
            } else if let forms = value as? [String: String] {
                var plural: [PluralCategory: String] = [:]
                for (category, text) in forms {
                    guard let parsed = PluralCategory(rawValue: category) else {
                        throw CatalogError("\(source): texts \"\(key)\": \"\(category)\" is not a plural category (zero, one, two, few, many, other)")
                    }
                    plural[parsed] = text
                }
                guard plural[.other] != nil else { throw CatalogError("\(source): texts \"\(key)\": a plural needs \"other\"") }
                messages[key] = .plural(plural)
            } else {
                throw CatalogError("\(source): texts \"\(key)\": expected a string or an object of plural forms")
            }
        }
        self.language = language
        self.explicitName = root["name"] as? String
        self.explicitSkeleton = (root["formats"] as? [String: Any])?["date_time"] as? String
        self.messages = messages
        self.groups = Self.groups(of: messages.keys)
    }

    private init(language: String, explicitName: String?, explicitSkeleton: String?, messages: [String: Message]) {
        self.language = language
        self.explicitName = explicitName
        self.explicitSkeleton = explicitSkeleton
        self.messages = messages
        self.groups = Self.groups(of: messages.keys)
    }

    private static func groups(of keys: some Sequence<String>) -> Set<String> {
        var groups = Set<String>()
        for key in keys {
            var prefix = ""
            for part in key.split(separator: ".").dropLast() {
                prefix += part + "."
                groups.insert(prefix)
            }
        }
        return groups
    }

    /// This catalog with `overrides` laid over it. Only keys this catalog has may be overridden.
    func overlaid(with overrides: Catalog, source: String) throws -> Catalog {
        if let unknown = Set(overrides.messages.keys).subtracting(messages.keys).sorted().first {
            throw CatalogError("\(source): texts \"\(unknown)\" is not a known text (see Resources/locales/\(language).json)")
        }
        // A placeholder the page does not fill would show as "{sitte}" to guests.
        for (key, message) in overrides.messages.sorted(by: { $0.key < $1.key }) {
            let allowed = Self.placeholders(messages[key]!)
            if let stray = Self.placeholders(message).subtracting(allowed).sorted().first {
                throw CatalogError("\(source): texts \"\(key)\": \(stray) is not filled in here (it may use: \(allowed.isEmpty ? "none" : allowed.sorted().joined(separator: ", ")))")
            }
        }
        return Catalog(language: language, explicitName: overrides.explicitName ?? explicitName,
                       explicitSkeleton: overrides.explicitSkeleton ?? explicitSkeleton,
                       messages: messages.merging(overrides.messages) { $1 })
    }

    /// The `{name}` placeholders a message uses, in any of its forms.
    static func placeholders(_ message: Message) -> Set<String> {
        let texts: [String] = switch message {
        case .text(let text): [text]
        case .plural(let forms): Array(forms.values)
        }
        return Set(texts.flatMap { $0.matches(of: /\{[a-z_]+\}/).map { String($0.0) } })
    }

    /// The message for `key` with `arguments` filled in; a missing key shows as itself.
    public func text(_ key: String, _ arguments: [String: String] = [:], count: Int? = nil) -> String {
        let template: String
        switch messages[key] {
        case .text(let text)?: template = text
        case .plural(let forms)?:
            let category = PluralRule.category(for: count ?? 0, language: language)
            template = forms[category] ?? forms[.other] ?? key
        case nil: return key
        }
        var arguments = arguments
        if let count { arguments["count"] = String(count) }
        return Self.fill(template, arguments)
    }

    /// Replaces `{name}` with its argument; unknown names stay as written.
    static func fill(_ template: String, _ arguments: [String: String]) -> String {
        guard template.utf8.contains(UInt8(ascii: "{")) else { return template }  // not String.contains: Foundation, slow
        var out = ""
        var rest = template[...]
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out += rest[..<open]
            let name = String(rest[rest.index(after: open)..<close])
            out += arguments[name] ?? "{\(name)}"
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    /// A date and time as guests of this language write it, in the site's zone.
    public func dateTime(_ date: Date, timeZone: TimeZone) -> String {
        DateFormatters.string(from: date, language: language, skeleton: dateTimeSkeleton, timeZone: timeZone)
    }

    /// The calendar day `date` falls on in `timeZone`, without the time ("1 December 2026").
    public func day(_ date: Date, timeZone: TimeZone) -> String {
        DateFormatters.string(from: date, language: language, skeleton: "yMMMMd", timeZone: timeZone)
    }
}

public struct CatalogError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// CLDR plural categories.
public enum PluralCategory: String, Sendable, CaseIterable {
    case zero, one, two, few, many, other
}

/// CLDR cardinal plural rules for whole numbers, for the languages portald ships.
enum PluralRule {
    static func category(for n: Int, language: String) -> PluralCategory {
        switch language {
        case "fr", "pt":
            // 0 and 1 are singular; French and Portuguese use "many" for millions.
            if n == 0 || n == 1 { return .one }
            return n != 0 && n % 1_000_000 == 0 ? .many : .other
        case "es", "it":
            if n == 1 { return .one }
            return n != 0 && n % 1_000_000 == 0 ? .many : .other
        default:  // en, de, and the one/other languages
            return n == 1 ? .one : .other
        }
    }
}

/// Formatters made once per language, skeleton and zone: making one resolves the
/// skeleton through ICU, which cost a login more than its SQLite write. DateFormatter
/// is not Sendable, so each is used under the lock (formatting takes microseconds).
private enum DateFormatters {
    private struct Shared: @unchecked Sendable { let formatter: DateFormatter }
    private static let cache = Mutex<[String: Shared]>([:])

    static func string(from date: Date, language: String, skeleton: String, timeZone: TimeZone) -> String {
        cache.withLock { cache in
            let key = "\(language) \(skeleton) \(timeZone.identifier)"
            if let shared = cache[key] { return shared.formatter.string(from: date) }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: language)
            formatter.timeZone = timeZone
            formatter.setLocalizedDateFormatFromTemplate(skeleton)
            cache[key] = Shared(formatter: formatter)
            return formatter.string(from: date)
        }
    }
}
