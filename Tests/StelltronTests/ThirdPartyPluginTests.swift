import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StelltronHost
import StelltronTesting
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What the product promises operators: a formula or a scheduler is swapped by building a
/// library and editing plugins.conf, never by rebuilding the host.
@Suite("third-party plugins and hooks", .serialized)
struct ThirdPartyPluginTests {
    /// Runs a command to its end without blocking a cooperative thread.
    static func run(_ arguments: [String], in directory: URL? = nil) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let output = OutputCollector(pipe)
        return try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in
                continuation.resume(returning: (finished.terminationStatus, output.text()))
            }
            do {
                try process.run()
            } catch {
                // No child holds the pipe: close it, so the reading thread ends too.
                try? pipe.fileHandleForWriting.close()
                continuation.resume(throwing: error)
            }
        }
    }

    /// Reads a pipe to its end on a thread of its own, as it fills (a chatty build never blocks on
    /// a full pipe). `text()` waits for that end — the process exited and its side of the pipe
    /// closed — so the last thing it wrote is never missed: taking what had arrived when the
    /// termination handler ran once returned a short output empty (a CI run).
    final class OutputCollector: @unchecked Sendable {
        // `data` is written by the reading thread before `finished` is signalled, read after.
        private let finished = DispatchSemaphore(value: 0)
        private var data = Data()
        init(_ pipe: Pipe) {
            let handle = pipe.fileHandleForReading
            Thread.detachNewThread { [self] in
                data = handle.readDataToEndOfFile()
                finished.signal()
            }
        }
        func text() -> String {
            finished.wait()
            return String(decoding: data, as: UTF8.self)
        }
    }

    static func compileC(_ source: String, name: String) async throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("lib\(name)-\(UUID().uuidString.prefix(8)).so").path
        let include = Fixtures.repositoryRoot.appendingPathComponent("Sources/PluginAPI/C/include").path
        let result = try await run(["cc", "-shared", "-fPIC", "-I", include, Fixtures.repositoryRoot.appendingPathComponent(source).path, "-o", output])
        #expect(result.status == 0, "\(result.output)")
        return output
    }

    /// Starts the built `stelltron` with `config`, waits for /health, and stops it afterwards.
    static func withServer(config: String, _ body: (Int) async throws -> Void) async throws {
        // The kernel's free port, not a random one: a random pick in the ephemeral range once met
        // a port another test's connection held, and the server could not listen (a CI run).
        let port = CLITests.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLITests.executable)
        process.arguments = ["serve", "--config", config, "--port", String(port), "--database", ":memory:"]
        let errors = Pipe()
        let errorOutput = OutputCollector(errors)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        var up = false
        for _ in 0..<400 where !up && process.isRunning {
            up = (try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/health")!)) != nil
            if !up { try await Task.sleep(for: .milliseconds(25)) }
        }
        guard up else {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            Issue.record("server did not start on port \(port): \(errorOutput.text())")
            return
        }
        defer { process.terminate(); process.waitUntilExit() }
        try await body(port)
    }

    static func post(_ port: Int, _ path: String, _ body: String) async throws -> [String: Any] {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        return Fixtures.json(try await URLSession.shared.data(for: request).0)
    }

    static func writeConfig(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plugins-\(UUID().uuidString.prefix(8)).conf").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let nodes = #"{"device_id":"pi","nodes":[{"uid":"A","voltage":3.9,"soc":80,"state":"IDLE"},{"uid":"B","voltage":3.9,"soc":30,"state":"IDLE"},{"uid":"C","voltage":3.9,"soc":35,"state":"IDLE"}]}"#

    @Test func aSeparatelyBuiltSchedulerReplacesTheDefaultWithoutRebuildingTheHost() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("threshold-\(UUID().uuidString.prefix(8))")
        let package = Fixtures.repositoryRoot.appendingPathComponent("Examples/threshold-scheduler").path
        let build = try await Self.run(["swift", "build", "--package-path", package, "--scratch-path", scratch.path])
        #expect(build.status == 0, "\(build.output)")
        let library = scratch.appendingPathComponent("debug/libThresholdScheduler.so").path
        let check = try await Self.run([CLITests.executable, "plugins", "check", library])
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("slots: scheduler/1"))

        let base = "[host]\nplugin_dir = \"\(BuildProducts.directory)\"\n[[plugin]]\nid = \"iot\"\nlibrary = \"libStelltronIoT.so\"\n"
        // The default scheduler pairs the fullest node with the emptiest.
        try await Self.withServer(config: try Self.writeConfig(base)) { port in
            let answer = try await Self.post(port, "/iot/cmd", Self.nodes)
            #expect((answer["commands"] as? [[String: Any]])?.map { $0["action"] as? String } == ["discharge", "charge", "idle"])
        }
        // The same host binary, plugins.conf naming the third-party scheduler.
        let swapped = base + "[[plugin]]\nid = \"threshold\"\nlibrary = \"\(library)\"\n[slots]\nscheduler = \"threshold\"\n"
        try await Self.withServer(config: try Self.writeConfig(swapped)) { port in
            let answer = try await Self.post(port, "/iot/cmd", Self.nodes)
            let commands = try #require(answer["commands"] as? [[String: Any]])
            // B (30 %) and C (35 %) are under 40 %, but only one may charge per discharging node: C waits.
            #expect(commands.map { $0["action"] as? String } == ["discharge", "charge", "idle"])
            #expect(commands.map { $0["reason"] as? String } == ["threshold: SoC over 70%", "threshold: SoC under 40%", "threshold: waiting for a discharging node"])
        }
    }

    @Test func aPricingPluginWrittenInCFillsThePricingSlot() async throws {
        let library = try await Self.compileC("Examples/c-pricing/cpricing.c", name: "cpricing")
        var configuration = Fixtures.configuration([
            .init(id: "ledger", library: BuildProducts.library("StelltronLedger")),
            .init(id: "market", library: BuildProducts.library("StelltronMarket")),
            .init(id: "cpricing", library: library, config: ["base_price": 6.0]),
        ], slots: ["pricing": "cpricing"])
        configuration.rateLimitPerMinute = 0
        let runtime = try Fixtures.runtime(configuration)
        #expect(runtime.slots["pricing"]?.id == "cpricing")
        try await buildApplication(runtime: runtime, port: 0).test(.router) { client in
            let wallet = TestWallet()
            _ = try await client.execute(uri: "/api/v1/auth/signup", method: .post, body: ByteBuffer(string: wallet.proof()))
            let login = try await client.execute(uri: "/api/v1/auth/login", method: .post, body: ByteBuffer(string: wallet.proof()))
            let token = try #require(Fixtures.json(Data(login.body.readableBytesView))["access_token"] as? String)
            func price() async throws -> [String: Any] {
                let response = try await client.execute(uri: "/api/v1/market/price", method: .get, headers: [.authorization: "Bearer \(token)"])
                return Fixtures.json(Data(response.body.readableBytesView))
            }
            let before = try await price()
            #expect(before["formula"] as? String == "cpricing linear")
            #expect(before["price"] as? Double == 6.0)
            _ = try await client.execute(uri: "/api/v1/market/order/create", method: .post, headers: [.authorization: "Bearer \(token)"],
                                         body: ByteBuffer(string: #"{"type":"buy","kwh_amount":1,"token_price":5}"#))
            let after = try await price()
            #expect(after["price"] as? Double == 6.3)
            #expect(after["demand"] as? Int == 1)
        }
    }

    @Test func foreignHooksReplaceAFactorAndTheNodeDecision() async throws {
        let library = try await Self.compileC("Tests/Fixtures/CHooks/factors.c", name: "factors")
        var configuration = Fixtures.configuration([
            .init(id: "ledger", library: BuildProducts.library("StelltronLedger")),
            .init(id: "market", library: BuildProducts.library("StelltronMarket")),
            .init(id: "iot", library: BuildProducts.library("StelltronIoT")),
        ])
        configuration.hooks = [
            HookBinding(name: "pricing.f_time", library: library, symbol: "f_time", signature: "double(int32)"),
            HookBinding(name: "scheduler.node", library: library, symbol: "node_policy", signature: "int32(double, double)"),
        ]
        let clock = TestClock() // 11:06 UTC: the hook's morning tariff
        let runtime = try Fixtures.runtime(configuration, clock: clock)
        #expect(try runtime.hooks["pricing.f_time"]?.call([11]) == 0.5)
        #expect(try runtime.hooks["pricing.f_time"]?.call([15]) == 2.0)
        // Out-of-range arguments saturate rather than trap.
        #expect(try runtime.hooks["pricing.f_time"]?.call([1e300]) == 2.0)
        #expect(try runtime.hooks["pricing.f_time"]?.call([-.infinity]) == 0.5)
        #expect(try runtime.hooks["pricing.f_time"]?.call([.nan]) == 0.5)
        let quote = Fixtures.json(try await runtime.callService("pricing.quote", json: Data(#"{"record":"never"}"#.utf8)).body)
        #expect((quote["breakdown"] as? [String: Any])?["f_time"] as? Double == 0.5)

        try await buildApplication(runtime: runtime, port: 0).test(.router) { client in
            let response = try await client.execute(uri: "/iot/cmd", method: .post, body: ByteBuffer(string: Self.nodes))
            let commands = try #require(Fixtures.json(Data(response.body.readableBytesView))["commands"] as? [[String: Any]])
            #expect(commands.map { $0["action"] as? String } == ["discharge", "charge", "charge"])
            #expect(commands.first?["reason"] as? String == "node policy hook: discharge")
        }
    }

    @Test func hooksWithTheWrongSignatureOrSymbolAreRefusedAtStartup() async throws {
        let library = try await Self.compileC("Tests/Fixtures/CHooks/factors.c", name: "factors")
        func refusal(_ binding: HookBinding) -> String {
            // The market declares the pricing hook points; the host itself knows none.
            var configuration = Fixtures.configuration([
                .init(id: "ledger", library: BuildProducts.library("StelltronLedger")),
                .init(id: "market", library: BuildProducts.library("StelltronMarket")),
            ])
            configuration.hooks = [binding]
            do {
                _ = try PluginRuntime(configuration: configuration)
                return "loaded"
            } catch {
                return "\(error)"
            }
        }
        #expect(refusal(HookBinding(name: "pricing.f_time", library: library, symbol: "f_time", signature: "double(double)"))
                == "plugin \(library): hook pricing.f_time: expects double(int32) but plugins.conf declares double(double)")
        #expect(refusal(HookBinding(name: "pricing.f_time", library: library, symbol: "nope", signature: "double(int32)"))
                == "plugin \(library): hook pricing.f_time: symbol nope not found")
        #expect(refusal(HookBinding(name: "pricing.f_moon", library: library, symbol: "f_time", signature: "double(int32)"))
                .contains("[hooks] pricing.f_moon: no loaded plugin declares this hook point; declared: pricing.f_dist, pricing.f_quality, pricing.f_sd, pricing.f_soc, pricing.f_time"))
        // scheduler.node is the iot plugin's: without it loaded, nothing declares it.
        #expect(refusal(HookBinding(name: "scheduler.node", library: library, symbol: "node_policy", signature: "int32(double,double)"))
                .contains("no loaded plugin declares this hook point"))
        #expect(refusal(HookBinding(name: "pricing.f_time", library: library, symbol: "f_time", signature: "double int32")).contains("is not of the form"))
    }

    @Test func hooksAreReadFromPluginsConf() throws {
        let configuration = try HostConfiguration.parse("""
            [hooks]
            pricing.f_time = { library = "libmyfactors.so", symbol = "f_time", signature = "double(int32)" }
            [hooks."scheduler.node"]
            library = "/opt/libnodes.so"
            symbol = "decide"
            signature = "int32(double,double)"
            """)
        #expect(configuration.hooks == [
            HookBinding(name: "pricing.f_time", library: "libmyfactors.so", symbol: "f_time", signature: "double(int32)"),
            HookBinding(name: "scheduler.node", library: "/opt/libnodes.so", symbol: "decide", signature: "int32(double,double)"),
        ])
        #expect(throws: ConfigurationError.self) { try HostConfiguration.parse("[hooks]\npricing.f_time = { library = \"x.so\" }\n") }
    }
}
