import Arrivals
import Foundation

/// The ISO 3166 countries by name in each guest language, sorted as that language
/// sorts (ICU's names: "Deutschland", "Allemagne"). Built once at start: a country
/// list is on every registration form.
struct CountryNames: Sendable {
    private let byLanguage: [String: [(code: String, name: String)]]
    private let names: [String: [String: String]]

    init(languages: some Sequence<String>) {
        var byLanguage: [String: [(code: String, name: String)]] = [:]
        for language in languages {
            let locale = Locale(identifier: language)
            byLanguage[language] = Countries.codes
                .map { (code: $0, name: locale.localizedString(forRegionCode: $0) ?? $0) }
                .sorted { $0.name.compare($1.name, options: [.caseInsensitive, .diacriticInsensitive], locale: locale) == .orderedAscending }
        }
        self.byLanguage = byLanguage
        names = byLanguage.mapValues { Dictionary(uniqueKeysWithValues: $0.map { ($0.code, $0.name) }) }
    }

    /// Code and name, sorted by name.
    func list(_ language: String) -> [(code: String, name: String)] { byLanguage[language] ?? byLanguage["en"] ?? [] }

    func name(_ code: String, language: String) -> String { (names[language] ?? names["en"])?[code] ?? code }
}
