// swift-tools-version:6.0
import PackageDescription

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
    ],
    targets: [
        // C shims: one per system library, each faced by exactly one Swift file.
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CNetfilter", pkgConfig: "libnftnl", providers: [.apt(["libnftnl-dev", "libmnl-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        .target(name: "Firewall", dependencies: ["CNetfilter"]),
        .target(name: "Arrivals"),
        .target(
            name: "PortalD",
            dependencies: [
                "Firewall", "Arrivals", "CMicroHTTPD", "COpenSSL", "CCurl",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        .executableTarget(name: "Main", dependencies: ["PortalD"]),

        // The network lab every end-to-end test uses (namespaces, veth, processes).
        .target(name: "Lab", path: "Tests/Lab"),
        .testTarget(name: "FirewallTests", dependencies: ["Firewall", "Lab"]),
        .testTarget(name: "PortalDTests", dependencies: ["PortalD"]),
        .testTarget(name: "EndToEndTests", dependencies: ["Lab"]),
    ],
    swiftLanguageModes: [.v6]
)
