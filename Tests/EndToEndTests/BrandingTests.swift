import Foundation
import Testing
import Lab

/// `[branding] directory` and `[site] time_zone` as IT meets them: `check-config`
/// refuses a bad directory naming the file, and the running daemon serves the
/// operator's logo, colours and texts.
@Suite("branding and time zone through the real binary")
struct BrandingTests {
    let svg = #"<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><circle r="4" cx="4" cy="4"/></svg>"#

    func brandingDirectory() throws -> URL {
        let root = Scratch.directory.appendingPathComponent("branding-e2e-\(UUID())")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("locales"), withIntermediateDirectories: true)
        try svg.write(to: root.appendingPathComponent("logo.svg"), atomically: false, encoding: .utf8)
        try "primary = \"#123456\"\n".write(to: root.appendingPathComponent("theme.toml"), atomically: false, encoding: .utf8)
        try #"{"language": "en", "texts": {"splash.welcome": "Welcome to the lab, dear guest."}}"#
            .write(to: root.appendingPathComponent("locales/en.json"), atomically: false, encoding: .utf8)
        return root
    }

    @Test func checkConfigAndServeWithBranding() throws {
        let branding = try brandingDirectory()
        defer { try? FileManager.default.removeItem(at: branding) }
        let portald = try Portald.loopback(site: #"time_zone = "Europe/Lisbon""#, extra: """

            [branding]
            directory = "\(branding.path)"
            """)
        let check = try portald.cli(["check-config"])
        #expect(check.stdout.contains(": ok"))
        #expect(check.stdout.contains("time zone Europe/Lisbon"))
        #expect(check.stdout.contains("branding \(branding.path)"))

        try portald.start()
        defer { try? portald.stop() }
        let page = try portald.run(["curl", "-s", portald.portalURL]).stdout
        #expect(page.contains("Welcome to the lab, dear guest."))
        #expect(page.contains("background:#123456"))
        #expect(page.contains(#"src="/assets/logo.svg""#))
        let logo = try portald.run(["curl", "-s", "-D", "-", "\(portald.portalURL)assets/logo.svg"]).stdout
        #expect(logo.lowercased().contains("content-type: image/svg+xml"))
        #expect(logo.hasSuffix(svg))

        // A misspelt file is named by check-config.
        try "x".write(to: branding.appendingPathComponent("logo.jpg"), atomically: false, encoding: .utf8)
        let bad = try portald.cli(["check-config"], check: false)
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("portald: \(branding.path)/logo.jpg: unknown entry"), "\(bad.stderr)")

        // A reload with that directory is refused, naming the file; the pages stay as they were.
        let hangUp = ["pkill", "-HUP", "-f", "serve --config \(portald.configPath)"]
        try portald.run(hangUp)
        try waitUntil("the reload is refused") { portald.log.contains("msg=\"reload refused; the running configuration is kept\"") }
        #expect(portald.log.contains("logo.jpg: unknown entry"))
        #expect(try portald.run(["curl", "-s", portald.portalURL]).stdout.contains("Welcome to the lab, dear guest."))
        // Mended, with a new text and no logo: a reload serves them, without a restart.
        try FileManager.default.removeItem(at: branding.appendingPathComponent("logo.jpg"))
        try FileManager.default.removeItem(at: branding.appendingPathComponent("logo.svg"))
        try #"{"language": "en", "texts": {"splash.welcome": "Welcome back, reloaded guest."}}"#
            .write(to: branding.appendingPathComponent("locales/en.json"), atomically: false, encoding: .utf8)
        try portald.run(hangUp)
        try waitUntil("the reload is applied") { portald.log.contains("msg=\"configuration reloaded\"") }
        let reloaded = try portald.run(["curl", "-s", portald.portalURL]).stdout
        #expect(reloaded.contains("Welcome back, reloaded guest.") && !reloaded.contains("logo.svg"), "\(reloaded)")
        #expect(try portald.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "\(portald.portalURL)assets/logo.svg"]).stdout == "404")
    }

    @Test func checkConfigNamesBadSiteKeys() throws {
        let missing = try Portald.loopback(extra: "\n[branding]\ndirectory = \"/nonexistent/branding\"")
        let result = try missing.cli(["check-config"], check: false)
        #expect(result.status == 1)
        #expect(result.stderr.contains("[branding] directory: /nonexistent/branding is not a directory"), "\(result.stderr)")

        let zone = try Portald.loopback(site: #"time_zone = "Mars/Olympus""#)
        let zoneResult = try zone.cli(["check-config"], check: false)
        #expect(zoneResult.status == 1)
        #expect(zoneResult.stderr.contains("[site] time_zone"), "\(zoneResult.stderr)")
    }
}
