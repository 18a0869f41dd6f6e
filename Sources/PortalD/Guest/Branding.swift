import Foundation
import TOMLKit

/// What an operator may change about the guest pages, from `[branding] directory`:
///
/// ```
/// templates/<name>.mustache   replaces the built-in template of that name
/// locales/<lang>.json         replaces texts of a built-in language (known keys only)
/// theme.toml                  colours: primary, on_primary, background, text, card ("#rrggbb")
/// logo.svg | logo.png         shown in the page header (at most 256 KiB)
/// ```
///
/// Anything else in the directory is an error, so a misspelt file name is reported
/// by `portald check-config` instead of being silently ignored.
public struct Branding: Sendable {
    public var templates: [String: String] = [:]
    public var locales: [String: [UInt8]] = [:]
    public var theme = Theme()
    public var logo: Logo?

    public struct Theme: Sendable, Equatable {
        public var primary = "#1f5c4a"
        public var onPrimary = "#ffffff"
        public var background = "#f4f1ea"
        public var text = "#1d1d1f"
        public var card = "#ffffff"
    }

    public struct Logo: Sendable {
        public var bytes: [UInt8]
        public var contentType: String
        /// The path the header links to.
        public var path: String
    }

    public init() {}

    static let maxLogoBytes = 256 * 1024

    /// Reads and checks a branding directory; every error names the file.
    public static func load(directory: String) throws -> Branding {
        let root = URL(fileURLWithPath: directory)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw BrandingError("[branding] directory: \(directory) is not a directory")
        }
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory).sorted().filter { !$0.hasPrefix(".") }
        guard !(entries.contains("logo.svg") && entries.contains("logo.png")) else {
            throw BrandingError("\(directory): give logo.svg or logo.png, not both")
        }
        var branding = Branding()
        for entry in entries {
            let path = root.appendingPathComponent(entry).path
            switch entry {
            case "templates":
                for file in try files(in: path, extension: "mustache") {
                    let name = String(file.dropLast(".mustache".count))
                    guard GuestPages.builtInTemplates[name] != nil else {
                        throw BrandingError("\(path)/\(file): no built-in template is called \"\(name)\" (known: \(GuestPages.builtInTemplates.keys.sorted().joined(separator: ", ")))")
                    }
                    branding.templates[name] = try text(at: "\(path)/\(file)")
                }
            case "locales":
                for file in try files(in: path, extension: "json") {
                    branding.locales[String(file.dropLast(".json".count))] = Array(try data(at: "\(path)/\(file)"))
                }
            case "theme.toml":
                branding.theme = try theme(at: path)
            case "logo.svg", "logo.png":
                branding.logo = try logo(at: path, name: entry)
            default:
                throw BrandingError("\(path): unknown entry (expected templates/, locales/, theme.toml, logo.svg or logo.png)")
            }
        }
        return branding
    }

    private static func files(in directory: String, extension ext: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted().filter { !$0.hasPrefix(".") }.map { file in
            guard file.hasSuffix(".\(ext)") else { throw BrandingError("\(directory)/\(file): expected only .\(ext) files here") }
            return file
        }
    }

    private static func data(at path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else { throw BrandingError("\(path): cannot read the file") }
        return data
    }

    private static func text(at path: String) throws -> String {
        guard let text = String(data: try data(at: path), encoding: .utf8) else { throw BrandingError("\(path): not UTF-8 text") }
        return text
    }

    private static func theme(at path: String) throws -> Theme {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: try text(at: path))
        } catch let error as TOMLParseError {
            throw BrandingError("\(path): TOML syntax error at line \(error.source.begin.line): \(error.description)")
        }
        var theme = Theme()
        let keys: [(String, WritableKeyPath<Theme, String>)] = [
            ("primary", \.primary), ("on_primary", \.onPrimary), ("background", \.background), ("text", \.text), ("card", \.card),
        ]
        for key in table.keys {
            guard let (_, property) = keys.first(where: { $0.0 == key }) else {
                throw BrandingError("\(path) \(key): unknown key (known: \(keys.map(\.0).joined(separator: ", ")))")
            }
            guard let colour = table[key]?.string, colour.range(of: "^#[0-9A-Fa-f]{6}$", options: .regularExpression) != nil else {
                throw BrandingError("\(path) \(key): expected a colour like \"#1f5c4a\"")
            }
            theme[keyPath: property] = colour.lowercased()
        }
        return theme
    }

    private static func logo(at path: String, name: String) throws -> Logo {
        let bytes = Array(try data(at: path))
        guard bytes.count <= maxLogoBytes else { throw BrandingError("\(path): \(bytes.count) bytes; a logo may have at most \(maxLogoBytes)") }
        if name.hasSuffix(".png") {
            guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else { throw BrandingError("\(path): not a PNG file") }
            return Logo(bytes: bytes, contentType: "image/png", path: "/assets/logo.png")
        }
        let svg = String(decoding: bytes, as: UTF8.self).lowercased()
        guard svg.contains("<svg") else { throw BrandingError("\(path): not an SVG file") }
        // Served from the portal's own origin: no scripts, no outside references.
        guard !svg.contains("<script"), !svg.contains("javascript:"), svg.range(of: #"\son[a-z]+\s*="#, options: .regularExpression) == nil else {
            throw BrandingError("\(path): an SVG logo may not contain scripts or event handlers")
        }
        return Logo(bytes: bytes, contentType: "image/svg+xml", path: "/assets/logo.svg")
    }
}

public struct BrandingError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
