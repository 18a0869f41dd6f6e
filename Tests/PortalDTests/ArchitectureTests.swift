import Foundation
import Testing

/// The layering README's "Architecture" section describes, checked on the sources:
/// SwiftPM would let a target import any module it can reach, so these rules would
/// otherwise hold only by good manners.
@Suite("architecture: who may import what")
struct ArchitectureTests {
    static let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources").standardizedFileURL

    /// Target → (file path relative to Sources, the modules it imports).
    func imports() throws -> [String: [(file: String, modules: [String])]] {
        var result: [String: [(String, [String])]] = [:]
        let enumerator = try #require(FileManager.default.enumerator(atPath: Self.sources.path))
        for case let path as String in enumerator where path.hasSuffix(".swift") {
            let text = try String(contentsOf: Self.sources.appendingPathComponent(path), encoding: .utf8)
            let modules = text.split(separator: "\n").compactMap { line -> String? in
                guard let match = line.wholeMatch(of: /(?:@testable |@_exported |internal |public |private )?import (\w+)/) else { return nil }
                return String(match.1)
            }
            result[String(path.split(separator: "/")[0]), default: []].append((path, modules))
        }
        return result
    }

    /// Each C library's facing file, which imports it `internal`ly: one, except libnftnl and
    /// libmnl's, whose netlink socket and message encoding are two concerns of a size each.
    static let facing: [String: Set<String>] = [
        "CMicroHTTPD": ["HTTPServer/MicroHTTPD.swift"], "CCurl": ["Outbox/CurlTransport.swift"],
        "COpenSSL": ["Crypto/Crypto.swift"], "CNetfilter": ["Firewall/Netfilter.swift", "Firewall/NetfilterEncoding.swift"],
        "CQRencode": ["PortalD/Guest/QRCode.swift"], "CResolv": ["PortalD/Daemon/HostResolver.swift"],
    ]

    @Test("only the one file facing a C library imports it, and only internally")
    func cLibrariesHaveOneFacingFile() throws {
        let all = try imports()
        #expect(all.keys.contains("Arrivals") && all.keys.contains("HTTPServer"), "found no sources at \(Self.sources.path)")
        for (_, files) in all {
            for (file, modules) in files {
                for module in modules where Self.facing[module] != nil {
                    #expect(Self.facing[module]!.contains(file), "\(file) imports \(module); only \(Self.facing[module]!.sorted()) may")
                }
            }
        }
        for (module, files) in Self.facing {
            for file in files {
                let text = try String(contentsOf: Self.sources.appendingPathComponent(file), encoding: .utf8)
                #expect(text.contains("internal import \(module)\n"), "\(file) must `internal import \(module)`")
            }
        }
    }

    @Test("raw pointers only where C is faced")
    func pointersStayAtTheEdges() throws {
        // The library files, plus the three that face libc's socket API (the listener's
        // bind, the systemd notify datagram, rtnetlink's neighbour tables).
        let allowed = Self.facing.values.reduce(Set<String>()) { $0.union($1) }.union(["HTTPServer/ListeningSocket.swift", "PortalD/Daemon/SystemdNotifier.swift",
                                                     "Firewall/Neighbours.swift"])
        for (_, files) in try imports() {
            for (file, _) in files where !allowed.contains(file) {
                let text = try String(contentsOf: Self.sources.appendingPathComponent(file), encoding: .utf8)
                let raw = ["Unsafe", "OpaquePointer", "unsafeUninitialized", "unsafeBitCast", "unsafeAddress"].filter { text.contains($0) }
                #expect(raw.isEmpty, "\(file) handles raw memory: \(raw)")
            }
        }
    }

    @Test("layers import only downward; Arrivals knows neither HTTP nor C")
    func layersImportDownward() throws {
        let forbidden: [String: Set<String>] = [
            "Arrivals": ["HTTPServer", "PortalD", "Firewall", "Glibc"].reduce(into: Set(Self.facing.keys)) { $0.insert($1) },
            "Outbox": ["HTTPServer", "PortalD", "Firewall", "Arrivals"],
            "Store": ["HTTPServer", "PortalD", "Firewall", "Arrivals", "Outbox"],
            "Crypto": ["HTTPServer", "PortalD", "Firewall", "Arrivals", "Outbox", "Store"],
            "HTTPServer": ["PortalD", "Firewall", "Arrivals", "Outbox", "Store"],
            "Firewall": ["PortalD", "HTTPServer", "Arrivals", "Outbox", "Store"],
        ]
        let all = try imports()
        for (target, banned) in forbidden {
            let files = try #require(all[target], "no target \(target)")
            for (file, modules) in files {
                for module in modules where banned.contains(module) {
                    Issue.record("\(file) imports \(module)")
                }
            }
        }
    }
}
