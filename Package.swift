// swift-tools-version:6.0
import PackageDescription

/// Plugins export only `stl_plugin_entry`; the linker keeps every other symbol local.
let pluginLinkerSettings: [LinkerSetting] = [
    .unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/PluginAPI/stelltron-plugin.map"])
]
let pluginKit: Target.Dependency = .product(name: "StelltronPluginKit", package: "PluginAPI")
let swift5: [SwiftSetting] = [.swiftLanguageMode(.v5)]
/// Swift 6 language mode: full data-race checking. Targets move to it one by one.
let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

/// One dynamic library per domain plugin: `.build/<config>/libStelltron<Name>.so`. A plugin's pure
/// domain logic lives in its own `<Name>Core` target, which unit tests import without the ABI.
func plugin(_ name: String, folder: String, dependencies: [Target.Dependency] = []) -> Target {
    .target(name: "\(name)Plugin", dependencies: [pluginKit] + dependencies, path: folder,
            swiftSettings: swift6, linkerSettings: pluginLinkerSettings)
}

let package = Package(
    name: "Stelltron",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "stelltron", targets: ["StelltronCLI"]),
        .executable(name: "stelltron-bench", targets: ["Benchmarks"]),
        .library(name: "StelltronRuntime", targets: ["StelltronRuntime"]),
        .library(name: "StelltronHost", targets: ["StelltronHost"]),
        .library(name: "StelltronTesting", targets: ["StelltronTesting"]),
        .library(name: "StelltronLedger", type: .dynamic, targets: ["LedgerPlugin"]),
        .library(name: "StelltronMarket", type: .dynamic, targets: ["MarketPlugin"]),
        .library(name: "StelltronIoT", type: .dynamic, targets: ["IoTPlugin"]),
        .library(name: "StelltronDefi", type: .dynamic, targets: ["DefiPlugin"]),
        .library(name: "StelltronDepin", type: .dynamic, targets: ["DepinPlugin"]),
        // A plugin that exists only to exercise the host in tests (transactions, services, events).
        .library(name: "StelltronFixtureProbe", type: .dynamic, targets: ["ProbeFixturePlugin"]),
    ],
    dependencies: [
        .package(path: "Sources/PluginAPI"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        // NIOHTTPTypes: the request and response parts the host's pipeline stage reads and writes.
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.2.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.3.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.2.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
    ],
    targets: [
        .systemLibrary(name: "CSodium", path: "Sources/CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CFFI", path: "Sources/CFFI", pkgConfig: "libffi", providers: [.apt(["libffi-dev"])]),
        // Process-wide SQLite settings, which only a variadic C function makes.
        .systemLibrary(name: "CSQLiteConfig", path: "Sources/CSQLiteConfig", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The runtime: loader, registry, storage, call scopes, events, hooks, configuration, users.
        // It knows no HTTP: the compiler keeps Hummingbird out of it.
        .target(
            name: "StelltronRuntime",
            dependencies: [
                .product(name: "CStelltronPluginAPI", package: "PluginAPI"),
                // The JSON model and coders, and the compiler version string host and plugins share.
                .product(name: "StelltronPluginKit", package: "PluginAPI"),
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, to bind plugin parameters straight into prepared statements.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                // PostgreSQL for several replicas on one database (`--database postgres://…`).
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "NIOPosix", package: "swift-nio"),
                "CSodium", "CFFI", "CSQLiteConfig",
            ],
            path: "Sources/Runtime",
            swiftSettings: swift6
        ),
        // The HTTP server on top of the runtime: router, middleware, wallet sign-in, SSE,
        // WebSocket, ticks.
        .target(
            name: "StelltronHost",
            dependencies: [
                "StelltronRuntime",
                .product(name: "StelltronPluginKit", package: "PluginAPI"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                // Thread-specific storage for each event loop's flush batch.
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                "CSodium",
            ],
            path: "Sources/Host",
            // The console's page, style sheet and script, served at /console.
            resources: [.copy("Console")],
            swiftSettings: swift5
        ),
        .executableTarget(
            name: "StelltronCLI",
            dependencies: ["StelltronHost", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/CLI",
            swiftSettings: swift5
        ),
        .executableTarget(
            name: "Benchmarks",
            dependencies: ["StelltronHost", "MarketCore", "IoTCore", "CSodium", .product(name: "Logging", package: "swift-log"),
                           .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "Hummingbird", package: "hummingbird")],
            path: "Benchmarks/Bench",
            swiftSettings: swift5
        ),
        .target(
            name: "StelltronTesting",
            dependencies: [
                "StelltronHost", pluginKit,
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Sources/Testing",
            swiftSettings: swift5
        ),
        .target(name: "LedgerCore", dependencies: ["CSodium"], path: "Plugins/ledger/Core", swiftSettings: swift6),
        plugin("Ledger", folder: "Plugins/ledger/Plugin", dependencies: ["LedgerCore", "LedgerClient"]),
        // The typed client of the ledger's services, linked into every plugin that moves LT.
        .target(name: "LedgerClient", dependencies: [pluginKit], path: "Plugins/ledger/Client", swiftSettings: swift6),
        .target(name: "MarketCore", dependencies: [pluginKit], path: "Plugins/market/Core", swiftSettings: swift6),
        plugin("Market", folder: "Plugins/market/Plugin", dependencies: ["MarketCore", "LedgerClient"]),
        .target(name: "IoTCore", dependencies: ["CSodium", pluginKit], path: "Plugins/iot/Core", swiftSettings: swift6),
        plugin("IoT", folder: "Plugins/iot/Plugin", dependencies: ["IoTCore", "LedgerClient"]),
        .target(name: "DefiCore", path: "Plugins/defi/Core", swiftSettings: swift6),
        plugin("Defi", folder: "Plugins/defi/Plugin", dependencies: ["DefiCore", "LedgerClient"]),
        .target(name: "DepinCore", path: "Plugins/depin/Core", swiftSettings: swift6),
        // Depin links IoTCore for the device signature scheme it forwards to `iot.authenticate`.
        plugin("Depin", folder: "Plugins/depin/Plugin", dependencies: ["DepinCore", "IoTCore", "LedgerClient"]),
        plugin("ProbeFixture", folder: "Tests/Fixtures/ProbePlugin"),
        .testTarget(
            name: "StelltronTests",
            dependencies: [
                "StelltronHost", "StelltronTesting", "LedgerCore", "LedgerClient", "MarketCore", "IoTCore", "DefiCore", "DepinCore", pluginKit,
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                "CSodium", "CSQLiteConfig",
            ],
            path: "Tests/StelltronTests",
            exclude: ["Vectors"],
            swiftSettings: swift5
        ),
    ]
)
