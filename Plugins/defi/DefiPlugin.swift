import StelltronPluginKit

/// The defi plugin: staking and flash loans.
/// For now it declares its identity and a status route; its domain arrives with its own issue.
final class DefiPlugin: StelltronPlugin {
    static let manifest = PluginManifest(
        id: "defi",
        version: "0.1.0",
        description: "staking and flash loans",
        routes: [
            Route(.get, "/api/v1/defi/status", access: .public, mode: .read, summary: "Whether the defi plugin is loaded"),
        ]
    )

    init(config: JSONValue, host: PluginHost) throws {}

    func handle(_ request: PluginRequest, host: PluginHost) throws -> PluginResponse {
        try .json(PluginStatus(plugin: Self.manifest.id, version: Self.manifest.version, status: "ok"))
    }
}

struct PluginStatus: Encodable {
    let plugin: String
    let version: String
    let status: String
}

@_cdecl("stl_plugin_entry")
public func stl_plugin_entry(_ hostABIMajor: UInt32, _ hostABIMinor: UInt32) -> UnsafeRawPointer? {
    exportPlugin(DefiPlugin.self, hostABIMajor: hostABIMajor)
}
