// swift-tools-version:6.0
import PackageDescription

// The target graph (dependencies flow downward only; see README "Architecture"):
//
//   Main → PortalD → Arrivals → Outbox → Store → Crypto
//                  → HTTPServer
//                  → Firewall
//
// Arrivals and Firewall never import each other, HTTPServer or PortalD.
// Each C library has one shim target (C*) faced by exactly one Swift file (libnftnl and
// libmnl: two, the netlink socket and the message encoding).
let package = Package(
    name: "portald",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "portald", targets: ["Main"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C shims: one per system library, each faced by one Swift file (CNetfilter: two).
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CNetfilter", pkgConfig: "libnftnl", providers: [.apt(["libnftnl-dev", "libmnl-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CQRencode", pkgConfig: "libqrencode", providers: [.apt(["libqrencode-dev"])]),
        // glibc's libresolv (part of libc6-dev): DNS answers with their TTLs, for the walled garden.
        .systemLibrary(name: "CResolv"),

        // HMAC, the CSPRNG and constant-time comparison (libcrypto), for the store, outbox and daemon.
        .target(name: "Crypto", dependencies: ["COpenSSL"]),
        // The SQLite database: GRDB pool in WAL mode, migrations contributed by each module.
        .target(name: "Store", dependencies: ["Crypto", .product(name: "GRDB", package: "GRDB.swift")]),
        // Events recorded in the caller's transaction; signed, delivered and retried.
        .target(name: "Outbox", dependencies: [
            "Store", "Crypto", "CCurl",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // libmicrohttpd behind a router with groups, middleware, request contexts and typed errors.
        .target(name: "HTTPServer", dependencies: ["CMicroHTTPD", .product(name: "Logging", package: "swift-log")]),
        // nftables through libnftnl/libmnl netlink.
        .target(name: "Firewall", dependencies: ["CNetfilter"]),
        // The check-in domain: no HTTP, no C.
        .target(name: "Arrivals", dependencies: ["Store", "Outbox", "Crypto", .product(name: "GRDB", package: "GRDB.swift")]),
        // The daemon: wiring, guest web, admin API, CLI.
        .target(
            name: "PortalD",
            dependencies: [
                "Arrivals", "Outbox", "Store", "Crypto", "HTTPServer", "Firewall", "CQRencode", "CResolv",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // Compiled into the binary: an installed `portald` needs no resource bundle beside it.
            resources: [.embedInCode("Resources/templates"), .embedInCode("Resources/locales")]
        ),
        .executableTarget(name: "Main", dependencies: ["PortalD"]),

        // The network lab every end-to-end test uses (namespaces, veth, processes).
        .target(name: "Lab", path: "Tests/Lab", exclude: ["webhook_receiver.py", "slow_headers.py", "dns_server.py", "metrics_parse.py"]),
        .testTarget(name: "FirewallTests", dependencies: ["Firewall", "Lab"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "OutboxTests", dependencies: ["Outbox", "Store", "Crypto", "Lab", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "ArrivalsTests", dependencies: ["Arrivals", "Store", "Outbox", "Lab", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "PortalDTests", dependencies: ["PortalD", "Arrivals", "HTTPServer", "Outbox", "Store", "Firewall", "Lab",
                                                       .product(name: "Mustache", package: "swift-mustache"), .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "EndToEndTests", dependencies: ["Lab"]),
    ],
    swiftLanguageModes: [.v6]
)
