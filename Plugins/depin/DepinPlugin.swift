import StelltronPluginKit

/// The depin plugin: node registry and uptime rewards.
/// For now it declares its identity and a status route; its domain arrives with its own issue.
final class DepinPlugin: StelltronPlugin {
    static let manifest = PluginManifest(
        id: "depin",
        version: "0.1.0",
        description: "node registry and uptime rewards",
        routes: [
            Route(.get, "/api/v1/depin/status", access: .public, mode: .read, summary: "Whether the depin plugin is loaded"),
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
    exportPlugin(DepinPlugin.self, hostABIMajor: hostABIMajor)
}
