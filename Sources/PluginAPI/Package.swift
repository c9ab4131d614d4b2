// swift-tools-version:6.0
// The plugin ABI on its own: a C header (the contract) and the Swift kit that wraps it.
// It depends on nothing, so a third party's plugin package resolves only this package.
import PackageDescription

let package = Package(
    name: "PluginAPI",
    products: [
        .library(name: "CStelltronPluginAPI", targets: ["CStelltronPluginAPI"]),
        .library(name: "StelltronPluginKit", targets: ["StelltronPluginKit"]),
    ],
    targets: [
        .target(name: "CStelltronPluginAPI", path: "C"),
        .target(
            name: "StelltronPluginKit",
            dependencies: ["CStelltronPluginAPI"],
            path: "Kit",
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
    ]
)
