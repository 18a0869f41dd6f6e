import Foundation
import Lab
import Mustache
import Testing
@testable import HTTPServer
@testable import PortalD

/// Templates, catalogs, languages, the site's time zone and the operator's branding.
@Suite("guest pages: templates, catalogs and branding")
struct GuestPagesTests {
    let portalTests = PortalTests()

    /// The package's Resources folder, found from this file's path.
    static let resources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/PortalD/Resources").standardizedFileURL

    @Test("every file in Resources is registered, so none is silently left out")
    func everyResourceIsRegistered() throws {
        func names(_ folder: String, _ ext: String) throws -> Set<String> {
            let files = try FileManager.default.contentsOfDirectory(atPath: Self.resources.appendingPathComponent(folder).path)
            return Set(files.filter { $0.hasSuffix(".\(ext)") }.map { String($0.dropLast(ext.count + 1)) })
        }
        let templates = try names("templates", "mustache")
        #expect(templates.count >= 8)
        #expect(templates == Set(GuestPages.builtInTemplates.keys))
        #expect(try names("locales", "json") == Set(GuestPages.builtInLocales.keys))
    }

    @Test("every text key a template uses exists in every catalog")
    func templatesUseKnownTexts() throws {
        let pages = try GuestPages(siteName: "S", timeZone: .gmt)
        var used = 0
        defer { #expect(used >= 8, "the key scan found only \(used) texts: is it broken?") }
        for (name, bytes) in GuestPages.builtInTemplates {
            let text = String(decoding: bytes, as: UTF8.self)
            let keys = GuestPages.textKeys(in: text)
            used += keys.count
            for key in keys {
                for catalog in pages.catalogs.values {
                    #expect(catalog.messages[key] != nil, "\(name).mustache uses t.\(key), missing in \(catalog.language)")
                }
            }
        }
    }

    @Test("every stored property of a page model is reachable by its name in templates")
    func pageModelsExposeEveryProperty() throws {
        let pages = try GuestPages(siteName: "S", timeZone: .gmt)
        let models: [any MustacheParent] = [
            SplashPage(csrf: "c", url: "u", error: "e", checkin: "k", checkinHint: "h"),
            OnlinePage(validUntil: "v", timeLeft: "t", url: "u", continueText: "c"),
            MessagePage(heading: "h", message: "m", link: "l", linkText: "x"),
            Chrome(site: "s", lang: "en", t: Texts(catalog: pages.catalog("en"), arguments: [:]), logo: "/l", theme: Branding.Theme()),
            Branding.Theme(),
            FindBookingPage(csrf: "c", reference: "r", surname: "s", askArrival: true, error: "e"),
            ChooseStayPage(choices: []), StayChoice(label: "l", detail: "d", link: "k"),
            WelcomePage(heading: "h", booking: "b", dates: "d", room: "r", guests: "g", start: "s"),
            StepNav(position: "p", back: "b", backText: "t"),
            ConfirmPage(nav: StepNav(position: "p", back: nil, backText: "t"), csrf: "c", action: "a", booking: "b", dates: "d", room: "r",
                        guests: "g", names: ["n"], error: "e"),
            DetailsPage(nav: StepNav(position: "p", back: nil, backText: "t"), csrf: "c", action: "a", heading: "h", fields: [], error: "e"),
            FieldView(fieldName: "f", label: "l", mark: "m", note: "n", value: "v", isRequired: true, markedRequired: true, problem: "p", inputType: "text",
                      options: [], autocomplete: "a", maxLength: 3),
            OptionView(optionValue: "v", optionLabel: "l", selected: true),
            TermsPage(nav: StepNav(position: "p", back: nil, backText: "t"), csrf: "c", action: "a", termsText: "x", termsVersion: "v", termsHash: "h",
                      name: "n", marketing: true, nameProblem: "p", error: "e"),
            ArrivePage(nav: StepNav(position: "p", back: nil, backText: "t"), csrf: "c", action: "a", booking: "b", dates: "d", guestName: "g",
                       missing: [], notice: "n", error: "e"),
            MissingItem(text: "t", link: "l"),
            DonePage(heading: "h", message: "m", room: "r", wifi: "w", wifiAction: "a", csrf: "c", error: "e"),
            CompanionsPage(nav: StepNav(position: "p", back: nil, backText: "t"), csrf: "c", intro: "i", rows: [], next: "n", error: "e"),
            CompanionRow(label: "l", state: "s", detailsLink: "d", inviteAction: "i", revokeAction: "r"),
            InvitePage(heading: "h", url: "u", qr: "q", back: "b"),
            ClaimPage(heading: "h", dates: "d", csrf: "c", action: "a", error: "e"),
        ]
        for model in models {
            let mirror = Mirror(reflecting: model)
            #expect(!mirror.children.isEmpty)
            for case let (label?, value) in mirror.children {
                let found = model.child(named: label)
                #expect(found != nil, "\(type(of: model)).\(label) is not reachable from templates")
                if let text = value as? String { #expect(found as? String == text, "\(type(of: model)).\(label)") }
            }
            #expect(model.child(named: "noSuchName") == nil)
        }
    }

    // MARK: Catalogs

    func catalog(_ language: String, _ texts: String, formats: String = "") throws -> Catalog {
        try Catalog(json: Array(#"{"language": "\#(language)", \#(formats) "texts": \#(texts)}"#.utf8), source: "test.json")
    }

    @Test func pluralsFollowEachLanguagesRule() throws {
        let english = try #require(try GuestPages(siteName: "S", timeZone: .gmt).catalogs["en"])
        #expect(english.text("online.time_left", count: 1) == "1 minute left.")
        #expect(english.text("online.time_left", count: 0) == "0 minutes left.")
        #expect(english.text("online.time_left", count: 42) == "42 minutes left.")

        let forms = #"{"n": {"one": "{count} nuit", "many": "{count} de nuits", "other": "{count} nuits"}}"#
        let french = try catalog("fr", forms)
        #expect(french.text("n", count: 0) == "0 nuit")  // French: 0 is singular
        #expect(french.text("n", count: 1) == "1 nuit")
        #expect(french.text("n", count: 2) == "2 nuits")
        #expect(french.text("n", count: 1_000_000) == "1000000 de nuits")
        let spanish = try catalog("es", forms)
        #expect(spanish.text("n", count: 0) == "0 nuits")  // Spanish: 0 is plural
        #expect(PluralRule.category(for: 1, language: "de") == .one)
        #expect(PluralRule.category(for: 0, language: "de") == .other)
        #expect(PluralRule.category(for: 1, language: "pt") == .one)
        #expect(PluralRule.category(for: 1_000_000, language: "it") == .many)
    }

    @Test("catalog errors name the file and the key", arguments: [
        (#"{"texts": {}}"#, #"test.json: "language" must be a language code"#),
        (#"{"language": "en", "texts": {"a": {"one": "x"}}}"#, #"texts "a": a plural needs "other""#),
        (#"{"language": "en", "texts": {"a": {"several": "x", "other": "y"}}}"#, #""several" is not a plural category"#),
        (#"{"language": "en", "texts": {"a": 3}}"#, #"texts "a": expected a string or an object of plural forms"#),
        ("[1]", "test.json: not a JSON object"),
    ])
    func catalogErrors(json: String, expected: String) {
        #expect(throws: CatalogError.self) { try Catalog(json: Array(json.utf8), source: "test.json") }
        do { _ = try Catalog(json: Array(json.utf8), source: "test.json") } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    @Test("dates are written the way each language writes them, in the site's zone")
    func dateFormatsPerLanguage() throws {
        let date = Date(timeIntervalSince1970: 1_795_443_900)  // 2026-11-23 14:25 UTC
        let english = try catalog("en", "{}", formats: #""formats": {"date_time": "yMMMdHHmm"},"#)
        let german = try catalog("de", "{}", formats: #""formats": {"date_time": "yMMMdHHmm"},"#)
        let numeric = try catalog("de", "{}", formats: #""formats": {"date_time": "yMMddHHmm"},"#)
        #expect(english.dateTime(date, timeZone: .gmt) == "Nov 23, 2026 at 14:25")
        #expect(german.dateTime(date, timeZone: .gmt).hasPrefix("23. Nov. 2026"))
        #expect(numeric.dateTime(date, timeZone: .gmt).hasPrefix("23.11.2026"))
        #expect(english.dateTime(date, timeZone: TimeZone(identifier: "Asia/Tokyo")!) == "Nov 23, 2026 at 23:25")
    }

    @Test("the online page shows the expiry in the site's time zone, not the server's")
    func onlinePageUsesTheSiteTimeZone() throws {
        let (_, handle, _) = try portalTests.makePortal(timeZone: "Pacific/Auckland")
        let token = try portalTests.csrf(portalTests.text(handle(portalTests.request("GET", "/"))))
        let before = Date()
        let html = portalTests.text(handle(portalTests.request("POST", "/login/terms", form: "csrf=\(token)&accept=yes")))
        let after = Date()
        let english = try #require(try GuestPages(siteName: "S", timeZone: .gmt).catalogs["en"])
        let zone = TimeZone(identifier: "Pacific/Auckland")!
        let expected = Set([before, after].map { english.dateTime($0.addingTimeInterval(3600), timeZone: zone) })
        #expect(expected.contains { html.contains("valid until \($0).") }, "\(expected) not in \(html)")
        #expect(!html.contains(english.dateTime(before.addingTimeInterval(3600), timeZone: .gmt)))
    }

    // MARK: Language

    @Test("the language comes from the URL, then the form, then Accept-Language, then the default")
    func languageChoice() {
        let locale = GuestLocale(available: ["en", "fr", "de"], fallback: "en")
        func request(_ target: String, form: String? = nil, accept: String? = nil) -> HTTPRequest {
            var headers = HTTPHeaders()
            if let accept { headers.add("Accept-Language", accept) }
            if form != nil { headers.add("Content-Type", "application/x-www-form-urlencoded") }
            return HTTPRequest(method: form == nil ? .get : .post, target: target, headers: headers,
                               body: Array((form ?? "").utf8), clientAddress: "192.0.2.10")
        }
        #expect(locale.language(for: request("/?lang=fr", accept: "de")) == "fr")
        #expect(locale.language(for: request("/login", form: "lang=de&accept=yes", accept: "fr")) == "de")
        #expect(locale.language(for: request("/", accept: "de-CH,de;q=0.9,en;q=0.8")) == "de")
        #expect(locale.language(for: request("/", accept: "ja,fr;q=0.5")) == "fr")
        #expect(locale.language(for: request("/?lang=xx", accept: "ja")) == "en")
        #expect(locale.language(for: request("/")) == "en")
    }

    @Test("the page's language travels in its form, since the iOS captive sheet keeps no cookies")
    func languageIsCarriedInTheForm() throws {
        let (_, handle, _) = try portalTests.makePortal()
        let html = portalTests.text(handle(portalTests.request("GET", "/?lang=en")))
        #expect(html.contains(#"<html lang="en">"#))
        #expect(html.contains(#"<input type="hidden" name="lang" value="en">"#))
    }

    // MARK: Branding

    func brandingDirectory(_ files: [String: String]) throws -> String {
        let root = Scratch.directory.appendingPathComponent("branding-\(UUID())")
        for (path, contents) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: url, atomically: false, encoding: .utf8)
        }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        return root.path
    }

    @Test("an operator's templates, texts, colours and logo replace the built-in ones")
    func brandingOverrides() throws {
        let directory = try brandingDirectory([
            "templates/footer.mustache": #"<footer class="muted">Seaside Group · {{t.layout.footer}}</footer>"#,
            "locales/en.json": #"{"language": "en", "texts": {"splash.connect": "Go online"}}"#,
            "theme.toml": "primary = \"#AA0000\"\ncard = \"#fafafa\"\n",
            "logo.svg": #"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#,
        ])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let branding = try Branding.load(directory: directory)
        let (_, handle, _) = try portalTests.makePortal(branding: branding)
        let html = portalTests.text(handle(portalTests.request("GET", "/")))
        #expect(html.contains("Seaside Group · Guest WiFi of Hotel &lt;Test&gt;"))
        #expect(html.contains(">Go online</button>"))
        #expect(html.contains("I accept the terms of use"))  // texts not overridden stay
        #expect(html.contains("background:#aa0000"))
        #expect(html.contains("background:#fafafa"))
        #expect(html.contains(#"<img class="logo" src="/assets/logo.svg" alt="">"#))
        let logo = handle(portalTests.request("GET", "/assets/logo.svg"))
        #expect(logo.status == 200)
        #expect(logo.headers["content-type"] == "image/svg+xml")
        #expect(logo.body == Array(try String(contentsOfFile: directory + "/logo.svg", encoding: .utf8).utf8))
        // Without branding there is no logo route and no logo.
        let (_, plain, _) = try portalTests.makePortal()
        #expect(plain(portalTests.request("GET", "/assets/logo.svg")).status == 404)
        #expect(!portalTests.text(plain(portalTests.request("GET", "/"))).contains("class=\"logo\""))
    }

    @Test("bad branding is refused with the file named", arguments: [
        (["templates/splosh.mustache": "x"], #"templates/splosh.mustache: no built-in template is called "splosh""#),
        (["templates/splash.txt": "x"], "splash.txt: expected only .mustache files here"),
        (["logo.gif": "GIF89a"], "logo.gif: unknown entry"),
        (["theme.toml": "primary = \"red\""], "theme.toml primary: expected a colour like"),
        (["theme.toml": "accent = \"#000000\""], "theme.toml accent: unknown key"),
        (["theme.toml": "primary = "], "theme.toml: TOML syntax error at line 1"),
        (["logo.svg": "<svg onload=\"alert(1)\"></svg>"], "logo.svg: an SVG logo may not contain scripts"),
        (["logo.svg": "<svg><script>x</script></svg>"], "logo.svg: an SVG logo may not contain scripts"),
        (["logo.png": "not a png"], "logo.png: not a PNG file"),
        (["logo.svg": "<svg/>", "logo.png": "x"], "give logo.svg or logo.png, not both"),
    ])
    func badBranding(files: [String: String], expected: String) throws {
        let directory = try brandingDirectory(files)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            _ = try Branding.load(directory: directory)
            Issue.record("accepted \(files)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    @Test("bad overrides that load fail when the pages are built, naming the file", arguments: [
        (["templates/splash.mustache": "{{#open}}never closed"], "template splash.mustache (branding)"),
        (["locales/en.json": #"{"language": "en", "texts": {"splash.typo": "x"}}"#], #"branding locales/en.json: texts "splash.typo" is not a known text"#),
        (["locales/en.json": #"{"language": "fr", "texts": {}}"#], #""language" is "fr", not "en""#),
        (["locales/tlh.json": #"{"language": "tlh", "texts": {}}"#], "portald has no built-in tlh texts to override"),
        (["templates/splash.mustache": "<p>{{t.splash.tittle}}</p>"], "template splash.mustache (branding): {{t.splash.tittle}} is not a text of en"),
        (["locales/de.json": #"{"language": "de", "texts": {"splash.title": "Ins WLAN von {sitte}"}}"#],
         #"branding locales/de.json: texts "splash.title": {sitte} is not filled in here (it may use: {site})"#),
    ])
    func badOverrides(files: [String: String], expected: String) throws {
        let directory = try brandingDirectory(files)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            _ = try GuestPages(siteName: "S", timeZone: .gmt, branding: try Branding.load(directory: directory))
            Issue.record("accepted \(files)")
        } catch {
            #expect("\(error)".contains(expected), "\(error)")
        }
    }

    @Test("a text override keeps the language's name and date format unless it sets them")
    func overridesKeepTheBaseFormats() throws {
        let base = try catalog("de", #"{"a": "A", "b": "B"}"#, formats: #""name": "Deutsch", "formats": {"date_time": "yMMddHHmm"},"#)
        let texts = try catalog("de", #"{"a": "Ä"}"#)
        let merged = try base.overlaid(with: texts, source: "x")
        #expect(merged.name == "Deutsch")
        #expect(merged.dateTimeSkeleton == "yMMddHHmm")
        #expect(merged.text("a") == "Ä" && merged.text("b") == "B")
        let formats = try catalog("de", "{}", formats: #""formats": {"date_time": "yMMMMdHHmm"},"#)
        #expect(try base.overlaid(with: formats, source: "x").dateTimeSkeleton == "yMMMMdHHmm")
    }

    @Test func missingDirectoryIsNamed() {
        #expect(throws: BrandingError.self) { try Branding.load(directory: "/nonexistent/branding") }
    }
}
