import Foundation
import StelltronPluginKit

/// The ledger plugin: the bank of the system. LT balances in integer micro-LT, a double-entry
/// journal whose entries are hash-chained, services every other plugin moves LT through, and the
/// public transparency API.
final class LedgerPlugin: StelltronPlugin {
    static let manifest = PluginManifest(
        id: "ledger",
        version: "1.0.0",
        description: "LT balances, the hash-chained journal and the public transparency API",
        routes: PublicAPI.routes,
        services: LedgerServices.declarations,
        migrations: Schema.migrations,
        // Moves the verification checkpoint forward (Verification).
        tickIntervalMilliseconds: 10_000
    )

    /// Entries one verification tick re-hashes at most (`verify_entries_per_tick`).
    let verifyEntriesPerTick: Int64

    init(config: JSONValue, host: PluginHost) throws {
        verifyEntriesPerTick = config["verify_entries_per_tick"]?.int64Value ?? 20_000
        guard verifyEntriesPerTick > 0 else { throw PluginError.badRequest("ledger config: verify_entries_per_tick must be positive") }
    }

    func handle(_ request: PluginRequest, host: PluginHost) throws -> PluginResponse {
        try PublicAPI.handle(request, journal: Journal(host: host))
    }

    func tick(host: PluginHost) throws {
        if let result = try Verification.advanceCheckpoint(host, maxEntries: verifyEntriesPerTick), !result.valid {
            host.log(.error, "ledger verification failed at seq \(result.broken_seq ?? -1): \(result.reason ?? "?")")
        }
    }

    func callService(_ name: String, request: Data, host: PluginHost) throws -> Data {
        try LedgerServices.call(name, request, journal: Journal(host: host))
    }
}

@_cdecl("stl_plugin_entry")
public func stl_plugin_entry(_ hostABIMajor: UInt32, _ hostABIMinor: UInt32) -> UnsafeRawPointer? {
    exportPlugin(LedgerPlugin.self, hostABIMajor: hostABIMajor)
}
