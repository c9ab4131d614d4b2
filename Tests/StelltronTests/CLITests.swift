import Foundation
import StelltronTesting
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The built `stelltron` executable, run as an operator runs it.
@Suite("stelltron command", .serialized)
struct CLITests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var executable: String { URL(fileURLWithPath: BuildProducts.directory).appendingPathComponent("stelltron").path }

    private func run(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// The shipped plugins.conf, pointed at the build folder and a scratch database.
    private func shippedConfiguration(extraPlugin: (id: String, library: String)? = nil) throws -> String {
        let shipped = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("plugins.conf"), encoding: .utf8)
        var text = shipped.replacingOccurrences(of: "# plugin_dir = \"/opt/stelltron/plugins\"", with: "plugin_dir = \"\(BuildProducts.directory)\"")
        if let extraPlugin {
            text = text.replacingOccurrences(of: "[slots]", with: "[[plugin]]\nid = \"\(extraPlugin.id)\"\nlibrary = \"\(extraPlugin.library)\"\n\n[slots]")
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plugins-\(UUID().uuidString.prefix(8)).conf").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A port no socket holds now (the kernel's pick for port 0), for a server started next.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Threads of NIO's shared event-loop group (named `NIO-SGLTN-<group>-#<loop>`) in a process.
    private static func eventLoopThreads(of pid: Int32) -> Int {
        let tasks = "/proc/\(pid)/task"
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? []
        return threads.filter { thread in
            let name = (try? String(contentsOfFile: "\(tasks)/\(thread)/comm", encoding: .utf8)) ?? ""
            return name.hasPrefix("NIO-SGLTN-")
        }.count
    }

    @Test func serveStartsWithTheFivePluginsOfPluginsConf() async throws {
        let config = try shippedConfiguration()
        let port = Self.freePort()
        let database = FileManager.default.temporaryDirectory.appendingPathComponent("cli-\(UUID().uuidString).sqlite").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["serve", "--config", config, "--port", String(port), "--database", database]
        // Not the default (three per core), so the count below can only come from the setting.
        process.environment = ProcessInfo.processInfo.environment.merging(["STELLTRON_EVENT_LOOPS": "5"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        var health: [String: Any] = [:]
        for _ in 0..<200 where health.isEmpty {
            if let (data, _) = try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/health")!) {
                health = Fixtures.json(data)
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let plugins = try #require(health["plugins"] as? [[String: Any]])
        #expect(plugins.compactMap { $0["id"] as? String } == ["ledger", "market", "iot", "defi", "depin"])
        let (depin, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/api/v1/depin/stats")!)
        #expect(Fixtures.json(depin)["network_health"] as? String == "no_nodes")
        let (supply, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/api/v1/tokens/supply")!)
        #expect(Fixtures.json(supply)["ratio"] as? String == "1 kWh = 1000 LT")
        let (_, market) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/api/v1/market/orders")!)
        #expect((market as? HTTPURLResponse)?.statusCode == 401)
        let (nodes, iot) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/iot/nodes/rpi-1")!)
        #expect((iot as? HTTPURLResponse)?.statusCode == 200)
        #expect(nodes == Data("[]".utf8))
        #expect(Self.eventLoopThreads(of: process.processIdentifier) == 5)
        process.terminate()
        process.waitUntilExit()
        #expect(FileManager.default.fileExists(atPath: database))
    }

    @Test func aBrokenPluginStopsStartupWithOneLine() throws {
        let broken = try Fixtures.cPlugin(["VARIANT_NO_ENTRY"])
        let config = try shippedConfiguration(extraPlugin: ("broken", broken))
        let result = try run(["serve", "--config", config, "--port", "0", "--database", ":memory:"])
        #expect(result.status == 1)
        #expect(result.stderr == "stelltron: refusing to start: plugin \(broken): missing entry symbol stl_plugin_entry\n")
    }

    @Test func aTOMLErrorStopsStartupWithTheLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString.prefix(8)).conf").path
        try "[host]\nport = 8080\n\n[[plugin]\nid = \"x\"\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try run(["serve", "--config", path])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("stelltron: \(path): TOML syntax error at line 4"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func pluginsListShowsEveryPlugin() throws {
        let result = try run(["plugins", "list", "--config", try shippedConfiguration()])
        #expect(result.status == 0)
        for id in ["ledger", "market", "iot", "defi", "depin"] {
            #expect(result.stdout.contains("\n\(id) ") || result.stdout.hasPrefix("\(id) "))
        }
        #expect(result.stdout.contains("ledger 1.0.0  ABI 1.3"))
        #expect(result.stdout.contains("service ledger.mint (write)"))
        #expect(result.stdout.contains("route   GET /api/v1/market/orders [protected, read]"))
        #expect(result.stdout.contains("slot    pricing/2 (filled)"))
        #expect(result.stdout.contains("route   GET /api/v1/market/price [protected, read]"))
        #expect(result.stdout.contains("hook    pricing.f_time double(int32)"))
        #expect(result.stdout.contains("uses    scheduler/1"))
    }

    @Test func pluginsCheckPassesGoodPluginsAndFailsBrokenOnes() throws {
        // Every domain plugin passes every named check.
        for library in ["StelltronLedger", "StelltronMarket", "StelltronIoT", "StelltronDefi", "StelltronDepin"] {
            let good = try run(["plugins", "check", BuildProducts.library(library)])
            #expect(good.status == 0, "\(library): \(good.stdout)")
            #expect(good.stdout.contains("OK: 7 of 7 checks passed"))
        }
        // The probe misbehaves on purpose (a route that crashes, routes that ignore their body):
        // the validator names each case.
        let probe = try run(["plugins", "check", BuildProducts.library("StelltronFixtureProbe")])
        #expect(probe.status == 1)
        #expect(probe.stdout.contains("id: probe  version: 1.0.0  ABI: 1.3"))
        #expect(probe.stdout.contains("tables: probe_cells, probe_counters, probe_seen"))
        #expect(probe.stdout.contains("PASS create-destroy"))
        #expect(probe.stdout.contains("FAIL routes-answer-json"))
        #expect(probe.stdout.contains("- POST /api/v1/probe/crash given {}: answered 500"))
        #expect(probe.stdout.contains("- POST /api/v1/probe/sql given {nope: answered 200, not a 4xx"))
        let broken = try run(["plugins", "check", try Fixtures.cPlugin(["VARIANT_WRONG_MAJOR"])])
        #expect(broken.status != 0)
        #expect(broken.stdout.contains("abi_major is 99, this host speaks 1.3"))
    }

    /// A trap inside the plugin fails the check it happened in; the validator itself goes on.
    @Test func aTrappingPluginFailsOneCheckNotTheValidator() throws {
        let result = try run(["plugins", "check", try Fixtures.cPlugin(["VARIANT_TRAP_SERVICE"]), "--json"])
        #expect(result.status == 1)
        let output = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(output["passed"] as? Bool == false)
        let checks = try #require(output["checks"] as? [[String: Any]])
        #expect(checks.count == 7)
        let byName = Dictionary(uniqueKeysWithValues: checks.map { ($0["check"] as? String ?? "", $0) })
        #expect(byName["load"]?["passed"] as? Bool == true)
        #expect(byName["services-answer"]?["passed"] as? Bool == false)
        #expect(((byName["services-answer"]?["details"] as? [String])?.first ?? "").contains("crashed the check"))
        #expect(byName["migrations-stable"]?["passed"] as? Bool == true)
    }

    /// What a host on PostgreSQL would refuse is found on SQLite already; a variant makes it pass.
    @Test func aMigrationPostgreSQLCannotRunFailsThePortabilityCheck() throws {
        let sqlite = "CREATE TABLE cfixture_things (at INTEGER); UPDATE cfixture_things SET at = strftime('%s', 'now')"
        let refused = try run(["plugins", "check", try Fixtures.cPlugin([#"MIGRATION_SQL="\#(sqlite)""#])])
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("FAIL migrations-portable"))
        #expect(refused.stdout.contains("migration 001_things: strftime() is SQLite's"))
        #expect(refused.stdout.contains("PASS migrations-stable"))
        let variant = "CREATE TABLE cfixture_things (at BIGINT)"
        let fixed = try run(["plugins", "check", try Fixtures.cPlugin([#"MIGRATION_SQL="\#(sqlite)""#, #"MIGRATION_SQL_POSTGRES="\#(variant)""#])])
        #expect(fixed.stdout.contains("PASS migrations-portable"), "\(fixed.stdout)")
    }

    @Test func aSchemaThatIsNotJSONIsRefusedAndReported() throws {
        let library = try Fixtures.cPlugin([#"ROUTE_SCHEMA="{not json""#])
        let result = try run(["plugins", "check", library])
        #expect(result.status == 1)
        #expect(result.stdout.contains("route POST /api/v1/cfixture/things: its request schema is not a JSON object"))
        #expect(result.stdout.contains("FAIL schemas-parse"))
    }

    /// Issue 18, item 2: a backup taken while the server takes writes is a valid database; a
    /// restore is refused while the server runs and works once it stopped; `ledger verify` checks
    /// a database offline.
    @Test func backupUnderWriteLoadRestoreAndOfflineVerify() async throws {
        let config = try shippedConfiguration()
        let port = Self.freePort()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("backup-\(UUID().uuidString.prefix(8))")
        let database = folder.appendingPathComponent("live.sqlite").path, copy = folder.appendingPathComponent("copy.sqlite").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["serve", "--config", config, "--port", String(port), "--database", database]
        var environment = ProcessInfo.processInfo.environment
        environment["STELLTRON_RATE_LIMIT_PER_MINUTE"] = "0"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        for _ in 0..<200 {
            if (try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/health")!)) != nil { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        // A write load: telemetry pings, each a committed write. It stops on a flag, not by
        // cancellation: cancelling a task inside URLSession.data can deadlock FoundationNetworking
        // on Linux (URLSessionTask.cancel waits on a queue a finishing request holds; seen in CI).
        let stop = StopFlag()
        let load = Task {
            var sent = 0
            while !stop.isSet && sent < 2_000 {
                var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/iot/ping")!)
                request.httpMethod = "POST"
                request.httpBody = Data(#"{"device_id":"rpi-\#(sent % 50)","voltage":3.9,"battery_level":50}"#.utf8)
                _ = try? await URLSession.shared.data(for: request)
                sent += 1
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let backup = try run(["backup", "--to", copy, "--config", config, "--database", database])
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect(try run(["backup", "--to", copy, "--config", config, "--database", database]).status == 1) // never overwrites
        let refused = try run(["restore", copy, "--config", config, "--database", database])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("a server is running"))
        stop.set()
        _ = await load.value
        process.terminate()
        process.waitUntilExit()

        let attributes = try FileManager.default.attributesOfItem(atPath: copy)
        #expect((attributes[.posixPermissions] as? Int ?? 0) & 0o777 == 0o600)
        let verified = try run(["ledger", "verify", "--config", config, "--database", copy])
        #expect(verified.status == 0, "\(verified.stdout) \(verified.stderr)")
        #expect(Fixtures.json(Data(verified.stdout.utf8))["valid"] as? Bool == true)
        let restored = try run(["restore", copy, "--config", config, "--database", database])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try run(["ledger", "verify", "--config", config, "--database", database]).status == 0)
        #expect(try run(["restore", config, "--config", config, "--database", database]).status == 1) // not a database
    }

    /// Issue 18, item 5: `LOG_FORMAT=json` writes one JSON object per line, the request line with
    /// its id, route, status, duration and plugin (and the user on protected routes).
    @Test func jsonLogsAreOneObjectPerLine() async throws {
        let (lines, address) = try await serveTwoRequests(logFormat: "json")
        #expect(!lines.isEmpty)
        let objects = lines.map { Fixtures.json(Data($0.utf8)) }
        #expect(objects.allSatisfy { $0["level"] is String && $0["message"] is String && $0["timestamp"] is String })
        let request = try #require(objects.first { ($0["message"] as? String)?.hasPrefix("GET /iot/nodes/rpi-1") == true })
        #expect(request["status"] as? String == "200" && request["route"] as? String == "/iot/nodes/{device_id}")
        #expect(request["hb.request.id"] is String && request["ms"] is String)
        #expect(request["plugin"] as? String == "iot")
        let protected = try #require(objects.first { ($0["message"] as? String)?.hasPrefix("GET /api/v1/market/orders") == true })
        #expect(protected["user"] as? String == address && protected["plugin"] as? String == "market")
        #expect(request["user"] == nil)
    }

    /// The default text log keeps swift-log's line (`timestamp level label: key=value … [source]
    /// message`, keys sorted) while rendering metadata only for lines it writes.
    @Test func textLogsKeepTheStreamHandlersLine() async throws {
        let (lines, address) = try await serveTwoRequests(logFormat: "text")
        let request = try #require(lines.first { $0.hasSuffix("] GET /iot/nodes/rpi-1 200") })
        let pattern = #/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} info stelltron: (?<metadata>.+) \[\w+\] GET /#
        let metadata = try #require(request.firstMatch(of: pattern)?.output.metadata, "\(request)")
        let keys = metadata.split(separator: " ").map { String($0.prefix { $0 != "=" }) }
        #expect(keys.contains("plugin") && keys.contains("hb.request.id") && keys == keys.sorted(), "\(keys)")
        let protected = try #require(lines.first { $0.contains("] GET /api/v1/market/orders") })
        #expect(protected.contains("user=\(address)") && protected.contains("plugin=market"))
    }

    /// Serves the shipped configuration with `LOG_FORMAT=logFormat`, reads a public and a
    /// protected route, stops the server and returns its standard error by line and the wallet.
    private func serveTwoRequests(logFormat: String) async throws -> (lines: [String], wallet: String) {
        let port = Self.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = ["serve", "--config", try shippedConfiguration(), "--port", String(port), "--database", ":memory:"]
        var environment = ProcessInfo.processInfo.environment
        environment["LOG_FORMAT"] = logFormat
        process.environment = environment
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = err
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var answered = false
        for _ in 0..<200 where !answered {
            answered = (try? await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/iot/nodes/rpi-1")!)) != nil
            if !answered { try await Task.sleep(for: .milliseconds(50)) }
        }
        // A protected route: the line names the signed-in user.
        let wallet = Process()
        wallet.executableURL = URL(fileURLWithPath: Self.executable).deletingLastPathComponent().appendingPathComponent("stelltron-bench")
        wallet.arguments = ["wallet"]
        let proofPipe = Pipe()
        wallet.standardOutput = proofPipe
        try wallet.run()
        let proof = proofPipe.fileHandleForReading.readDataToEndOfFile()
        wallet.waitUntilExit()
        let address = try #require(Fixtures.json(proof)["wallet_address"] as? String)
        func post(_ path: String) async throws -> [String: Any] {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = "POST"
            request.httpBody = proof
            return Fixtures.json(try await URLSession.shared.data(for: request).0)
        }
        _ = try await post("/api/v1/auth/signup")
        let token = try #require(try await post("/api/v1/auth/login")["access_token"] as? String)
        var orders = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/market/orders")!)
        orders.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        _ = try await URLSession.shared.data(for: orders)
        process.terminate()
        process.waitUntilExit()
        let lines = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").map(String.init)
        return (lines, address)
    }
}

/// A flag one task sets and another polls.
final class StopFlag: @unchecked Sendable {
    // Sendable: `lock` guards `value`.
    private let lock = NSLock()
    private var value = false

    var isSet: Bool { lock.withLock { value } }

    func set() { lock.withLock { value = true } }
}
