import Foundation
import Logging
import StelltronHost
import StelltronPluginKit
import StelltronTesting

/// Paths and builders for the test fixtures.
enum Fixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var probeLibrary: String { BuildProducts.library("StelltronFixtureProbe") }

    /// Compiles `Tests/Fixtures/CPlugins/<source>` with `defines` into a fresh `.so` (the
    /// loader never reloads a path, so every build gets its own file name).
    static func cPlugin(_ defines: [String], source: String = "fixture_plugin.c") throws -> String {
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("stelltron-cfixture-\(UUID().uuidString.prefix(8)).so").path
        let source = repositoryRoot.appendingPathComponent("Tests/Fixtures/CPlugins/\(source)").path
        let include = repositoryRoot.appendingPathComponent("Sources/PluginAPI/C/include").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["cc", "-shared", "-fPIC", "-I", include] + defines.map { "-D\($0)" } + [source, "-o", output]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestHostError(message: "cc failed for \(defines)") }
        return output
    }

    /// A configuration with the probe plugin (and `extra` entries) on a private database.
    static func configuration(_ entries: [HostConfiguration.PluginEntry]? = nil, slots: [String: String] = [:]) -> HostConfiguration {
        var configuration = HostConfiguration(
            plugins: entries ?? [.init(id: "probe", library: probeLibrary, config: ["greeting": "hello"])],
            slots: slots)
        configuration.databasePath = TestDatabase.privateLocation()
        configuration.auth.jwtSecret = TestDatabase.jwtSecret()
        configuration.pluginDirectory = BuildProducts.directory
        return configuration
    }

    /// A JSON object's text as the kit's model (plugin config tables in tests).
    static func object(_ text: String) -> [String: JSONValue] {
        guard case .object(let members) = try? JSONValue.parse(text) else { preconditionFailure("not a JSON object: \(text)") }
        return members
    }

    static func json(_ data: Data) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }
}

extension Fixtures {
    /// A runtime that logs warnings and errors only, to keep test output readable.
    static func runtime(_ configuration: HostConfiguration, clock: TestClock? = nil) throws -> PluginRuntime {
        var logger = Logger(label: "stelltron.test")
        logger.logLevel = .warning
        guard let clock else { return try PluginRuntime(configuration: configuration, logger: logger) }
        return try PluginRuntime(configuration: configuration, logger: logger, clock: { clock.now })
    }
}

extension Fixtures {
    /// `runtime`, loaded on a thread of its own. Loading waits for storage synchronously (on
    /// PostgreSQL: hundreds of round trips for the migrations); on Swift's two cooperative threads
    /// here, parallel tests loading at once would stall every other test's tasks — their SSE
    /// keep-alives, their timeouts — for seconds.
    static func runtimeOffThePool(_ configuration: HostConfiguration, clock: TestClock? = nil) async throws -> PluginRuntime {
        let loaded: Result<PluginRuntime, Error> = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: Result { try runtime(configuration, clock: clock) })
            }
        }
        return try loaded.get()
    }
}

/// A clock tests move by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date = Date(timeIntervalSince1970: 1_795_000_000)) {
        current = start
    }

    var now: Date { lock.withLock { current } }

    func advance(_ seconds: TimeInterval) {
        lock.withLock { current = current.addingTimeInterval(seconds) }
    }
}
