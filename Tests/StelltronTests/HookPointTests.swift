import Foundation
import HummingbirdTesting
import StelltronHost
import StelltronTesting
import Testing

/// ABI 1.1: plugins declare their hook points and the slot revisions they speak; the host binds
/// `[hooks]` against those declarations, hands bound functions out at create only, and still
/// loads 1.0 plugins without reading past their descriptor.
@Suite("hook points and slot revisions", .serialized)
struct HookPointTests {
    private func factorsLibrary() async throws -> String {
        try await ThirdPartyPluginTests.compileC("Tests/Fixtures/CHooks/factors.c", name: "factors")
    }

    @Test func aDeclaredHookPointReceivesItsFunctionAtCreateOnly() async throws {
        var configuration = Fixtures.configuration()
        configuration.hooks = [HookBinding(name: "probe.factor", library: try await factorsLibrary(), symbol: "half", signature: "double(double)")]
        let runtime = try Fixtures.runtime(configuration)
        let probe = try #require(runtime.plugins.first)
        #expect(probe.declaration.hookPoints.map(\.name) == ["probe.factor"])
        #expect(probe.declaration.hookPoints.first?.signature.description == "double(double)")
        try await buildApplication(runtime: runtime).test(.router) { client in
            let bound = Fixtures.json(Data(try await client.execute(uri: "/api/v1/probe/hook/3", method: .get).body.readableBytesView))
            #expect(bound["bound"] as? Bool == true)
            #expect(bound["value"] as? Double == 1.5)
            let later = Fixtures.json(Data(try await client.execute(uri: "/api/v1/probe/hook-later", method: .get).body.readableBytesView))
            #expect(later["kind"] as? String == "forbidden")
        }
    }

    @Test func anUnboundHookPointLeavesTheBuiltInRule() async throws {
        let runtime = try Fixtures.runtime(Fixtures.configuration())
        try await buildApplication(runtime: runtime).test(.router) { client in
            let answer = Fixtures.json(Data(try await client.execute(uri: "/api/v1/probe/hook/3", method: .get).body.readableBytesView))
            #expect(answer["bound"] as? Bool == false)
        }
    }

    @Test func aBindingMustMatchTheDeclaredSignature() async throws {
        let library = try await factorsLibrary()
        var configuration = Fixtures.configuration()
        configuration.hooks = [HookBinding(name: "probe.factor", library: library, symbol: "half", signature: "double(int32)")]
        #expect(throws: PluginLoadError.self) { try PluginRuntime(configuration: configuration) }
        do {
            _ = try PluginRuntime(configuration: configuration)
        } catch {
            #expect("\(error)" == "plugin \(library): hook probe.factor: expects double(double) but plugins.conf declares double(int32)")
        }
    }

    @Test func aSlotFilledWithAnotherRevisionIsRefused() throws {
        let revision1 = try Fixtures.cPlugin([#"PLUGIN_ID="pricing1""#, "FILL_PRICING=1.5", "PRICING_REVISION=1"])
        let configuration = Fixtures.configuration([
            .init(id: "ledger", library: BuildProducts.library("StelltronLedger")),
            .init(id: "market", library: BuildProducts.library("StelltronMarket")),
            .init(id: "pricing1", library: revision1),
        ], slots: ["pricing": "pricing1"])
        let error = #expect(throws: PluginLoadError.self) { try PluginRuntime(configuration: configuration) }
        #expect(error?.description == "plugin \(revision1): fills pricing/1, but plugin 'market' speaks pricing/2")
        // The same filler at revision 2 (pricing.quote and pricing.current) is accepted.
        let revision2 = try Fixtures.cPlugin([#"PLUGIN_ID="pricing2""#, "FILL_PRICING=1.5"])
        var accepted = configuration
        accepted.plugins[2] = .init(id: "pricing2", library: revision2)
        accepted.slots = ["pricing": "pricing2"]
        #expect(throws: Never.self) { try PluginRuntime(configuration: accepted) }
    }

    @Test func anABI10PluginLoadsAndNothingPastItsSizeIsRead() throws {
        let library = try Fixtures.cPlugin(["VARIANT_ABI_1_0"])
        let runtime = try PluginRuntime(configuration: Fixtures.configuration([.init(id: "cfixture", library: library)]))
        let declaration = try #require(runtime.plugins.first?.declaration)
        #expect(declaration.abiMinor == 0)
        #expect(declaration.hookPoints.isEmpty && declaration.slotUses.isEmpty)
        let current = try #require(try Fixtures.runtime(Fixtures.configuration()).plugins.first?.declaration)
        #expect(declaration.descriptorSize < current.descriptorSize)
    }
}
