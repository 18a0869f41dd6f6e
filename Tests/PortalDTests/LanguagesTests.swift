import Arrivals
import Foundation
import HTTPServer
@testable import PortalD
import Testing

/// Six languages on every guest page: complete catalogs, the booking's language by
/// default, the browser's over it, the guest's choice over both (kept in links and
/// forms, no cookies), and the footer offering the others.
@Suite("guest pages in six languages")
struct LanguagesTests {
    typealias Harness = CheckinStepsTests.Harness
    func text(_ response: HTTPResponse) -> String { CheckinStepsTests.text(response) }

    static func placeholders(_ message: Catalog.Message) -> Set<String> { Catalog.placeholders(message) }

    @Test("every language has every English text, no other, with the same placeholders; plurals have their 'other' form")
    func catalogsComplete() throws {
        let pages = try GuestPages(siteName: "S", timeZone: .gmt)
        #expect(Set(pages.catalogs.keys) == ["en", "fr", "es", "de", "it", "pt"])
        let english = try #require(pages.catalogs["en"])
        for (language, catalog) in pages.catalogs where language != "en" {
            let missing = Set(english.messages.keys).subtracting(catalog.messages.keys)
            let extra = Set(catalog.messages.keys).subtracting(english.messages.keys)
            #expect(missing.isEmpty, "\(language) lacks \(missing.sorted())")
            #expect(extra.isEmpty, "\(language) has texts English has not: \(extra.sorted())")
            for (key, message) in english.messages {
                guard let translated = catalog.messages[key] else { continue }
                #expect(Self.placeholders(translated) == Self.placeholders(message), "\(language) \(key)")
                // Each plural form on its own: none may drop a placeholder English uses in every form.
                if case .plural(let forms) = translated, case .plural(let englishForms) = message {
                    let everywhere = englishForms.values.map { Self.placeholders(.text($0)) }.reduce(Self.placeholders(message)) { $0.intersection($1) }
                    for (category, form) in forms {
                        #expect(everywhere.isSubset(of: Self.placeholders(.text(form))), "\(language) \(key) \(category)")
                    }
                    #expect(forms[.one] != nil, "\(language) \(key): a form for one")
                }
                if case .text(let text) = translated, key != "arrive.welcome.dates", key != "arrive.terms.version" {
                    #expect(text != (english.messages[key].flatMap { if case .text(let english) = $0 { english } else { nil } }) || text.count < 12,
                            "\(language) \(key) is still English")
                }
            }
        }
    }

    func book(_ lab: Harness, language: String?) throws -> String {
        let stored = try lab.reservations.put(Reservation(
            id: "L1", reference: "BKG-L1", status: .confirmed, arrival: LocalDate("2026-12-01")!, departure: LocalDate("2026-12-04")!,
            adults: 1, language: language, guests: [.init(firstName: "Luca", lastName: "Rossi", primary: true)]), source: "test").0
        return try #require(stored.checkinURL?.lastPathComponent)
    }

    @Test("the booking's language by default; the browser's over it; the guest's choice over both, kept in links and forms")
    func choosing() throws {
        let lab = try Harness()
        let token = try book(lab, language: "it-IT")
        let italian = text(lab.get("/arrive/\(token)"))
        #expect(italian.contains(#"<html lang="it">"#) && italian.contains("Hotel Test ti dà il benvenuto") && italian.contains("1 dicembre 2026"), "\(italian)")
        #expect(italian.contains("href=\"/arrive/\(token)/confirm\""), "the booking's own language needs no ?lang=")
        let french = text(lab.get("/arrive/\(token)", headers: [("Accept-Language", "fr-CH, fr;q=0.9")]))
        #expect(french.contains(#"<html lang="fr">"#) && french.contains("Hotel Test vous souhaite la bienvenue"))
        let weighed = text(lab.get("/arrive/\(token)", headers: [("Accept-Language", "ja, en;q=0, es;q=0.3, fr;q=0.5")]))
        #expect(weighed.contains(#"<html lang="fr">"#), "the highest q we have; q=0 is a refusal")
        #expect(text(lab.get("/arrive/\(token)", headers: [("Accept-Language", "ja, en;q=0")])).contains(#"<html lang="it">"#), "none we have: the booking's")
        let chosen = text(lab.get("/arrive/\(token)?lang=pt", headers: [("Accept-Language", "fr")]))
        #expect(chosen.contains(#"<html lang="pt">"#) && chosen.contains("href=\"/arrive/\(token)/confirm?lang=pt\""), "a choice travels in the links")
        for (code, name) in [("de", "Deutsch"), ("en", "English"), ("es", "Español"), ("fr", "Français"), ("it", "Italiano")] {
            #expect(chosen.contains(#"<a href="/arrive/\#(token)?lang=\#(code)" lang="\#(code)" hreflang="\#(code)">\#(name)</a>"#), "footer: \(code)")
        }
        #expect(!chosen.contains(#"hreflang="pt""#), "not the page's own language")
        let form = lab.get("/arrive/\(token)/confirm?lang=es")
        #expect(text(form).contains(#"<input type="hidden" name="lang" value="es">"#))
        let confirmed = lab.post("/arrive/\(token)/confirm", [("csrf", try CheckinStepsTests.csrf(of: form)), ("lang", "es")])
        #expect(confirmed.headers["location"] == "/arrive/\(token)/details?lang=es", "the form's choice survives the redirect")
        #expect(text(lab.get("/arrive/\(token)/details?lang=es")).contains("Primer apellido"))
    }

    @Test("a language picked on find my booking stays picked on the booking's pages, even the site's default against the browser's")
    func findKeepsChoice() throws {
        let lab = try Harness()
        _ = try book(lab, language: "it")
        let german = [("Accept-Language", "de")]
        let form = lab.get("/arrive?lang=en", headers: german)
        #expect(text(form).contains(#"<html lang="en">"#))
        let found = lab.post("/arrive", [("csrf", try CheckinStepsTests.csrf(of: form)), ("lang", "en"), ("reference", "bkg-l1"), ("surname", "rossi")],
                             headers: german)
        let location = try #require(found.headers["location"], "\(text(found))")
        #expect(location.hasSuffix("?lang=en"))
        #expect(text(lab.get(location, headers: german)).contains(#"<html lang="en">"#))
    }

    @Test("the captive portal's splash is in the browser's language and offers the others, keeping where the guest was going")
    func splash() throws {
        let lab = try Harness()
        let page = text(lab.get("/?url=http%3A%2F%2Fexample.com%2F", headers: [("Accept-Language", "de-DE,de;q=0.9")]))
        #expect(page.contains(#"<html lang="de">"#) && page.contains("Mit dem WLAN von Hotel Test verbinden"), "\(page)")
        #expect(page.contains(#"href="/?url=http%3A%2F%2Fexample.com%2F&amp;lang=en""#) || page.contains(#"href="/?url=http%3A%2F%2Fexample.com%2F&lang=en""#), "\(page)")
    }
}
