import Foundation
import StelltronHost
import StelltronTesting
import Testing

/// Every way a plugin set can be wrong makes loading fail with one line naming the file and the
/// problem — never a crash, never a half-started host.
@Suite("loader refusals")
struct LoaderRefusalTests {
    private func refusal(_ configuration: HostConfiguration) -> String {
        do {
            _ = try PluginRuntime(configuration: configuration)
            return "loaded"
        } catch let error as PluginLoadError {
            return error.description
        } catch {
            return "unexpected \(error)"
        }
    }

    private func single(_ library: String, id: String = "cfixture") -> HostConfiguration {
        Fixtures.configuration([.init(id: id, library: library)])
    }

    @Test func missingFile() {
        let message = refusal(single("/nonexistent/libNothing.so"))
        #expect(message == "plugin /nonexistent/libNothing.so: file not found")
    }

    @Test func missingEntrySymbol() throws {
        let library = try Fixtures.cPlugin(["VARIANT_NO_ENTRY"])
        #expect(refusal(single(library)) == "plugin \(library): missing entry symbol stl_plugin_entry")
    }

    @Test func entryReturnsNull() throws {
        let library = try Fixtures.cPlugin(["VARIANT_RETURNS_NULL"])
        #expect(refusal(single(library)).contains("stl_plugin_entry returned NULL"))
    }

    @Test func abiMajorMismatch() throws {
        let library = try Fixtures.cPlugin(["VARIANT_WRONG_MAJOR"])
        #expect(refusal(single(library)) == "plugin \(library): abi_major is 99, this host speaks 1.3")
    }

    @Test func descriptorTooSmall() throws {
        let library = try Fixtures.cPlugin(["VARIANT_TOO_SMALL"])
        let message = refusal(single(library))
        #expect(message.hasPrefix("plugin \(library): struct_size is 16 bytes, smaller than the"))
    }

    @Test func idDiffersFromConfiguration() throws {
        let library = try Fixtures.cPlugin([#"PLUGIN_ID="real""#])
        #expect(refusal(single(library, id: "other")).contains("plugins.conf names it 'other' but its descriptor id is 'real'"))
    }

    @Test func routeClaimedTwice() throws {
        let clash = try Fixtures.cPlugin([#"PLUGIN_ID="clash""#, #"CLAIM_ROUTE="/api/v1/probe/counters/:id""#])
        let message = refusal(Fixtures.configuration([
            .init(id: "probe", library: Fixtures.probeLibrary), .init(id: "clash", library: clash),
        ]))
        #expect(message == "plugin \(clash): route GET /api/v1/probe/counters/:id is already claimed by plugin 'probe' (\(Fixtures.probeLibrary))")
    }

    @Test func hostRouteCannotBeClaimed() throws {
        let clash = try Fixtures.cPlugin([#"PLUGIN_ID="clash""#, #"CLAIM_ROUTE="/health""#])
        #expect(refusal(single(clash, id: "clash")).hasSuffix("route GET /health is served by the host itself"))
    }

    @Test func slotClaimedTwiceWithoutAChoice() throws {
        let a = try Fixtures.cPlugin([#"PLUGIN_ID="slota""#, "FILL_PRICING=1.5"])
        let b = try Fixtures.cPlugin([#"PLUGIN_ID="slotb""#, "FILL_PRICING=2.5"])
        let entries: [HostConfiguration.PluginEntry] = [.init(id: "slota", library: a), .init(id: "slotb", library: b)]
        #expect(refusal(Fixtures.configuration(entries)) == "plugin plugins.conf: slot pricing is claimed by 'slota' and 'slotb': name one in [slots]")
        #expect(refusal(Fixtures.configuration(entries, slots: ["pricing": "slotb"])) == "loaded")
    }

    @Test func unknownPluginInSlot() throws {
        let message = refusal(Fixtures.configuration(nil, slots: ["pricing": "market"]))
        #expect(message == "plugin plugins.conf: [slots] pricing names plugin 'market', which is not loaded")
    }

    @Test func slotPluginMustDeclareTheSlot() {
        let message = refusal(Fixtures.configuration(nil, slots: ["pricing": "probe"]))
        #expect(message == "plugin plugins.conf: [slots] pricing names plugin 'probe', which does not declare slot pricing")
    }

    @Test func requiredSlotUnfilled() {
        var configuration = Fixtures.configuration()
        configuration.requiredSlots = ["scheduler"]
        #expect(refusal(configuration) == "plugin plugins.conf: slot scheduler is required but no loaded plugin fills it")
    }

    @Test func samePluginListedUnderTwoEntries() {
        let message = refusal(Fixtures.configuration([
            .init(id: "probe", library: Fixtures.probeLibrary), .init(id: "probe", library: Fixtures.probeLibrary),
        ]))
        #expect(message.hasSuffix("id 'probe' is already used by another loaded plugin"))
    }
}

/// Migrations are never edited: the host keeps each applied migration's SHA-256 and refuses to
/// start on a database that applied different SQL under the same id.
@Suite("migration checksums")
struct MigrationChecksumTests {
    @Test func anEditedMigrationIsRefusedAtStartup() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stelltron-migrations-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("db.sqlite").path
        func load(_ sql: String) throws -> PluginRuntime {
            var configuration = Fixtures.configuration([.init(id: "cfixture", library: try Fixtures.cPlugin([#"MIGRATION_SQL="\#(sql)""#]))])
            configuration.databasePath = database
            return try PluginRuntime(configuration: configuration)
        }
        try load("CREATE TABLE cfixture_things (a INTEGER)").shutdown()
        // The same SQL again: nothing to apply, nothing refused.
        try load("CREATE TABLE cfixture_things (a INTEGER)").shutdown()
        let error = #expect(throws: PluginLoadError.self) { try load("CREATE TABLE cfixture_things (a INTEGER, b TEXT)") }
        #expect(error?.problem.hasPrefix("migration 001_things was edited after it was applied") == true)
    }
}
