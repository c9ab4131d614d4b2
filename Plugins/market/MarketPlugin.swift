import StelltronPluginKit

/// The market plugin: order book, matching and dynamic pricing.
/// For now it declares its identity and a status route; its domain arrives with its own issue.
final class MarketPlugin: StelltronPlugin {
    static let manifest = PluginManifest(
        id: "market",
        version: "0.1.0",
        description: "order book, matching and dynamic pricing",
        routes: [
            Route(.get, "/api/v1/market/status", access: .public, mode: .read, summary: "Whether the market plugin is loaded"),
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
    exportPlugin(MarketPlugin.self, hostABIMajor: hostABIMajor)
}
