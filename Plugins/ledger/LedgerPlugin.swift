import StelltronPluginKit

/// The ledger plugin: LT balances, the hash-chained journal and the public transparency API.
/// For now it declares its identity and a status route; its domain arrives with its own issue.
final class LedgerPlugin: StelltronPlugin {
    static let manifest = PluginManifest(
        id: "ledger",
        version: "0.1.0",
        description: "LT balances, the hash-chained journal and the public transparency API",
        routes: [
            Route(.get, "/api/v1/ledger/status", access: .public, mode: .read, summary: "Whether the ledger plugin is loaded"),
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
    exportPlugin(LedgerPlugin.self, hostABIMajor: hostABIMajor)
}
