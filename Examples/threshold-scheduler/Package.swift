// swift-tools-version:6.0
// A third-party scheduler plugin: its own package, depending on the plugin API only (not on the
// host, not on the built-in plugins). Build it, put the .so where plugins.conf points, and name
// it in [slots] scheduler = "threshold".
import PackageDescription

let package = Package(
    name: "ThresholdScheduler",
    products: [
        .library(name: "ThresholdScheduler", type: .dynamic, targets: ["ThresholdScheduler"]),
    ],
    dependencies: [
        .package(path: "../../Sources/PluginAPI"),
    ],
    targets: [
        .target(
            name: "ThresholdScheduler",
            dependencies: [.product(name: "StelltronPluginKit", package: "PluginAPI")],
            swiftSettings: [.swiftLanguageMode(.v5)],
            linkerSettings: [
                // Export the entry symbol only.
                .unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/../../Sources/PluginAPI/stelltron-plugin.map"]),
            ]
        ),
    ]
)
