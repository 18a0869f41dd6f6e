import Arrivals
import Foundation
import Synchronization

/// The guest pages every listener renders with: the current `PageSet`, which a reload
/// replaces whole (templates, texts, logo and colours of `[branding] directory`), so a
/// page is always rendered from one set, never half of each.
public final class GuestPages: Sendable {
    private let current: Mutex<PageSet>

    /// The pages `config` asks for: the built-ins with its `[branding] directory` over
    /// them. `serve`, a reload and `check-config` all build them this way, so a branding
    /// error is reported before it could take effect.
    public convenience init(config: Config) throws {
        self.init(try PageSet(config: config))
    }

    /// Compiles the templates and catalogs with `branding` over them; every error names its file.
    public convenience init(siteName: String, timeZone: TimeZone, branding: Branding = Branding(), defaultLanguage: String = "en") throws {
        self.init(try PageSet(siteName: siteName, timeZone: timeZone, branding: branding, defaultLanguage: defaultLanguage))
    }

    init(_ set: PageSet) {
        current = Mutex(set)
    }

    /// From now on, pages come from `other`'s set.
    func replace(with other: GuestPages) {
        let loaded = other.loaded
        current.withLock { $0 = loaded }
    }

    var loaded: PageSet { current.withLock { $0 } }

    static var builtInTemplates: [String: [UInt8]] { PageSet.builtInTemplates }
    static var builtInLocales: [String: [UInt8]] { PageSet.builtInLocales }
    static func textKeys(in template: String) -> [String] { PageSet.textKeys(in: template) }

    public var catalogs: [String: Catalog] { loaded.catalogs }
    public var defaultLanguage: String { loaded.defaultLanguage }
    var siteName: String { loaded.siteName }
    var countries: CountryNames { loaded.countries }
    var logo: Branding.Logo? { loaded.logo }

    public func catalog(_ language: String) -> Catalog { loaded.catalog(language) }

    /// Renders `page` in `language` with the layout's common values around it. With `path`
    /// (the page's own address), the footer offers the page in every other language.
    public func render<Page: PageModel>(_ page: Page, language: String, path: String? = nil) -> String {
        loaded.render(page, language: language, path: path)
    }

    /// A date and time in the guest's language and the site's zone.
    public func dateTime(_ date: Date, language: String) -> String { loaded.dateTime(date, language: language) }

    /// `path` for a guest reading `language`: `?lang=` only when it is not the default.
    public func link(_ path: String, language: String) -> String { loaded.link(path, language: language) }

    /// A day of the site (a reservation's arrival) in the guest's language: "1 December 2026".
    public func date(_ date: LocalDate, language: String) -> String { loaded.date(date, language: language) }

    /// "1 December 2026 – 4 December 2026": a stay's days in the guest's language.
    public func stay(_ reservation: Reservation, language: String) -> String { loaded.stay(reservation, language: language) }
}
