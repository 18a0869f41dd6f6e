import Arrivals
import Foundation
import HTTPServer
import Mustache

/// One compiled set of guest pages: template files compiled into the binary
/// (Resources/templates), one layout with partials, texts from the locale catalogs, and
/// the operator's branding laid over both. Rendering takes a typed page model, never a
/// dictionary. `GuestPages` holds the current set, which a reload replaces.
struct PageSet: Sendable {
    private let library: MustacheLibrary
    public let catalogs: [String: Catalog]
    public let defaultLanguage: String
    let siteName: String
    let timeZone: TimeZone
    let branding: Branding
    let countries: CountryNames

    /// The built-in templates by name. A new file in Resources/templates is added here
    /// too (a test checks that none is missing).
    static let builtInTemplates: [String: [UInt8]] = [
        "layout": PackageResources.layout_mustache, "style": PackageResources.style_mustache,
        "header": PackageResources.header_mustache, "footer": PackageResources.footer_mustache,
        "alert": PackageResources.alert_mustache, "splash": PackageResources.splash_mustache,
        "online": PackageResources.online_mustache, "message": PackageResources.message_mustache,
        "arrive_find": PackageResources.arrive_find_mustache, "arrive_choose": PackageResources.arrive_choose_mustache,
        "arrive_welcome": PackageResources.arrive_welcome_mustache,
        "arrive_confirm": PackageResources.arrive_confirm_mustache, "arrive_details": PackageResources.arrive_details_mustache,
        "steps": PackageResources.steps_mustache, "arrive_terms": PackageResources.arrive_terms_mustache,
        "arrive_arrive": PackageResources.arrive_arrive_mustache, "arrive_done": PackageResources.arrive_done_mustache,
        "arrive_companions": PackageResources.arrive_companions_mustache, "arrive_invite": PackageResources.arrive_invite_mustache,
        "claim": PackageResources.claim_mustache,
    ]

    /// The built-in catalogs by language.
    static let builtInLocales: [String: [UInt8]] = [
        "en": PackageResources.en_json, "fr": PackageResources.fr_json, "es": PackageResources.es_json,
        "de": PackageResources.de_json, "it": PackageResources.it_json, "pt": PackageResources.pt_json,
    ]

    /// The pages `config` asks for: the built-ins with its `[branding] directory` over
    /// them. `serve` and `check-config` both build them this way, so a branding error
    /// is reported before a restart, not by it.
    public init(config: Config) throws {
        let branding = try config.branding.directory.map { try Branding.load(directory: $0) } ?? Branding()
        try self.init(siteName: config.site.name, timeZone: config.site.timeZone, branding: branding)
    }

    /// Compiles the templates and catalogs with `branding` over them; every error names its file.
    public init(siteName: String, timeZone: TimeZone, branding: Branding = Branding(), defaultLanguage: String = "en") throws {
        var library = MustacheLibrary()
        for (name, bytes) in Self.builtInTemplates {
            let text = branding.templates[name] ?? String(decoding: bytes, as: UTF8.self)
            do {
                try library.register(text, named: name)
            } catch {
                throw BrandingError("template \(name).mustache\(branding.templates[name] == nil ? "" : " (branding)"): \(error)")
            }
        }
        var catalogs: [String: Catalog] = [:]
        for (language, bytes) in Self.builtInLocales {
            catalogs[language] = try Catalog(json: bytes, source: "locales/\(language).json")
        }
        for (language, bytes) in branding.locales {
            let source = "branding locales/\(language).json"
            let override = try Catalog(json: bytes, source: source)
            guard override.language == language else { throw CatalogError("\(source): \"language\" is \"\(override.language)\", not \"\(language)\"") }
            guard let base = catalogs[language] else {
                throw CatalogError("\(source): portald has no built-in \(language) texts to override (built in: \(catalogs.keys.sorted().joined(separator: ", ")))")
            }
            catalogs[language] = try base.overlaid(with: override, source: source)
        }
        // An operator's template may only use texts every language has: a misspelt key
        // would show guests nothing, and check-config is where IT should hear of it.
        for (name, text) in branding.templates.sorted(by: { $0.key < $1.key }) {
            for key in Self.textKeys(in: text) {
                // The default language first, then the rest in order: one error, the same every run.
                let ordered = catalogs.values.sorted { ($0.language == defaultLanguage ? "" : $0.language) < ($1.language == defaultLanguage ? "" : $1.language) }
                if let missing = ordered.first(where: { $0.messages[key] == nil }) {
                    throw BrandingError("template \(name).mustache (branding): {{t.\(key)}} is not a text of \(missing.language) (see Resources/locales/\(missing.language).json)")
                }
            }
        }
        self.library = library
        self.catalogs = catalogs
        self.defaultLanguage = catalogs[defaultLanguage] == nil ? "en" : defaultLanguage
        self.siteName = siteName
        self.timeZone = timeZone
        self.branding = branding
        self.countries = CountryNames(languages: catalogs.keys)
    }

    /// The catalog keys a template uses as `{{t.key}}` (also in sections: `{{#t.key}}`).
    static func textKeys(in template: String) -> [String] {
        template.matches(of: /\{\{[#^\/]?\s*t\.([A-Za-z0-9_.]+)\s*\}\}/).map { String($0.1) }
    }

    public func catalog(_ language: String) -> Catalog { catalogs[language] ?? catalogs[defaultLanguage]! }

    /// Renders `page` in `language` with the layout's common values around it. With `path`
    /// (the page's own address), the footer offers the page in every other language.
    public func render<Page: PageModel>(_ page: Page, language: String, path: String? = nil) -> String {
        let catalog = catalog(language)
        let languages = path.map { path in
            catalogs.values.sorted { $0.language < $1.language }.filter { $0.language != catalog.language }.map {
                LanguageLink(name: $0.name, code: $0.language, href: path + (path.contains("?") ? "&" : "?") + "lang=" + $0.language)
            }
        } ?? []
        let chrome = Chrome(site: siteName, lang: catalog.language, t: Texts(catalog: catalog, arguments: ["site": siteName]),
                            logo: branding.logo?.path, theme: branding.theme, languages: languages)
        // Nil only for a template name that is not registered (a programming error).
        return library.render(PageContext(page: page, chrome: chrome), withTemplate: Page.template)
            ?? "<!doctype html><html lang=\"\(catalog.language)\"><title>\(HTML.escape(catalog.text("error.500.heading")))</title><p>\(HTML.escape(catalog.text("error.500.message")))</p></html>"
    }

    /// A date and time in the guest's language and the site's zone.
    public func dateTime(_ date: Date, language: String) -> String {
        catalog(language).dateTime(date, timeZone: timeZone)
    }

    /// `path` for a guest reading `language`: `?lang=` only when it is not the default,
    /// since the choice travels in links, not in cookies.
    public func link(_ path: String, language: String) -> String {
        language == defaultLanguage ? path : path + "?lang=" + language
    }

    /// A day of the site (a reservation's arrival) in the guest's language: "1 December 2026".
    public func date(_ date: LocalDate, language: String) -> String {
        // Noon UTC of that day, shown in UTC: the same calendar day whatever the zones.
        let noon = DateComponents(calendar: Calendar(identifier: .gregorian), timeZone: .gmt, year: date.year, month: date.month, day: date.day, hour: 12).date!
        return catalog(language).day(noon, timeZone: .gmt)
    }

    /// "1 December 2026 – 4 December 2026": a stay's days in the guest's language.
    public func stay(_ reservation: Reservation, language: String) -> String {
        catalog(language).text("arrive.welcome.dates", ["arrival": date(reservation.arrival, language: language),
                                                        "departure": date(reservation.departure, language: language)])
    }

    var logo: Branding.Logo? { branding.logo }
}

/// A page's own values; the template named `template` renders it. Templates reach
/// the values by name through `child(named:)`, spelled out per page: Mustache asks at
/// every tag, and reflection (a Mirror per lookup) was most of a login's rendering
/// time. A test checks that every stored property is reachable under its own name.
public protocol PageModel: Sendable, MustacheParent {
    static var template: String { get }
}

/// What every page's layout shows.
struct Chrome: MustacheParent {
    let site: String
    let lang: String
    let t: Texts
    let logo: String?
    let theme: Branding.Theme
    /// The page in the other languages (none where the page has no address of its own to offer).
    var languages: [LanguageLink] = []

    func child(named name: String) -> Any? {
        switch name {
        case "site": site
        case "lang": lang
        case "t": t
        case "logo": logo
        case "theme": theme
        case "languages": languages
        case "hasLanguages": !languages.isEmpty
        default: nil
        }
    }
}

/// "Deutsch" → this page with `?lang=de` (in the language's own name, marked with its `lang`).
struct LanguageLink: MustacheParent {
    let name: String
    let code: String
    let href: String

    func child(named name: String) -> Any? {
        switch name {
        case "name": self.name
        case "code": code
        case "href": href
        default: nil
        }
    }
}

/// The page's values first, then the layout's (Mustache looks names up in this order).
struct PageContext<Page: PageModel>: MustacheParent {
    let page: Page
    let chrome: Chrome

    func child(named name: String) -> Any? {
        page.child(named: name) ?? chrome.child(named: name)
    }
}

/// `{{t.splash.title}}`: a catalog's texts as Mustache sees them, placeholders filled.
struct Texts: MustacheParent {
    let catalog: Catalog
    let arguments: [String: String]
    var prefix = ""

    func child(named name: String) -> Any? {
        let key = prefix + name
        if catalog.messages[key] != nil { return catalog.text(key, arguments) }
        let deeper = key + "."
        guard catalog.groups.contains(deeper) else { return nil }
        return Texts(catalog: catalog, arguments: arguments, prefix: deeper)
    }
}

/// `{{theme.primary}}`: looked up by name, not through a Mirror (the style partial asks on every page).
extension Branding.Theme: MustacheParent {
    public func child(named name: String) -> Any? {
        switch name {
        case "primary": primary
        case "onPrimary": onPrimary
        case "background": background
        case "text": text
        case "card": card
        default: nil
        }
    }
}
