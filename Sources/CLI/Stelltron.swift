import ArgumentParser
import Foundation
import Logging
import StelltronHost

/// The `stelltron` command: a thin shell over the host library.
@main
struct Stelltron: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stelltron",
        abstract: "The Stelltron energy-market host: serves HTTP and runs domain plugins.",
        subcommands: [Serve.self, Plugins.self, OpenAPI.self, Call.self, Backup.self, Restore.self, Ledger.self, Config.self],
        defaultSubcommand: Serve.self)
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load the plugins of plugins.conf and serve HTTP.")

    @Option(help: "Path of plugins.conf.")
    var config = "plugins.conf"

    @Option(help: "Port to listen on (beats STELLTRON_PORT, which beats plugins.conf; default 8080).")
    var port: Int?

    @Option(help: "SQLite file (beats STELLTRON_DATABASE, which beats plugins.conf; default ./data/stelltron.sqlite).")
    var database: String?

    @Option(help: "Address to bind (beats STELLTRON_BIND, which beats plugins.conf; default 127.0.0.1).")
    var bind: String?

    func run() async throws {
        var options: [String: String] = [:]
        options["port"] = port.map(String.init)
        options["database"] = database
        options["bind"] = bind
        let configuration = try loadConfiguration(config, options: options)
        let eventLoops = EventLoopCount.install(for: configuration)
        let logFormat: ServerLogHandler.Format = configuration.logFormat == "json" ? .json : .text
        LoggingSystem.bootstrap { ServerLogHandler(label: $0, format: logFormat) }
        // Before the runtime loads: the handles it makes at load record into this backend.
        if !configuration.metricsBind.isEmpty { PrometheusExport.bootstrap() }
        var logger = Logger(label: "stelltron")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .info
        // One server per SQLite database; `stelltron restore` checks this lock. Replicas on one
        // PostgreSQL database are the point of PostgreSQL: no lock there.
        let lock: ServerLock?
        do {
            let shared = configuration.databasePath == ":memory:" || StorageEngines.isPostgres(configuration.databasePath)
            lock = shared ? nil : try ServerLock(databasePath: configuration.databasePath)
        } catch let error as StoreError {
            fail("refusing to start: \(error.message)")
        }
        defer { lock?.release() }
        let started = ContinuousClock.now
        let runtime = try loadRuntime(configuration, logger: logger)
        logger.info("loaded \(runtime.plugins.count) plugins in \(ContinuousClock.now - started)", metadata: [
            "plugins": .string(runtime.plugins.map(\.id).joined(separator: ",")),
            "database": .string(StorageEngines.describe(configuration.databasePath)),
            "event_loops": .stringConvertible(eventLoops),
        ])
        let app = try await buildApplication(runtime: runtime)
        try await app.runService()
        runtime.shutdown()
        lock?.release()
        logger.info("stopped")
        // Exit here rather than return from main: on Linux a thread-specific-data destructor of
        // the main thread, run when main returns, was seen to block forever (an orphaned `serve`
        // after SIGTERM, one run in five under the CLI tests). Everything is committed and closed.
        Foundation.exit(0)
    }
}

struct Plugins: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Inspect plugins.",
        subcommands: [List.self, Check.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load plugins.conf against a scratch database and list each plugin.")

        @Option(help: "Path of plugins.conf.")
        var config = "plugins.conf"

        func run() async throws {
            var configuration = try loadConfiguration(config)
            configuration.databasePath = ":memory:"
            var logger = Logger(label: "stelltron")
            logger.logLevel = .warning
            let runtime = try loadRuntime(configuration, logger: logger)
            defer { runtime.shutdown() }
            for plugin in runtime.plugins {
                let declaration = plugin.declaration
                print("\(declaration.id) \(declaration.version)  ABI \(declaration.abiMajor).\(declaration.abiMinor)  \(plugin.file)")
                for route in declaration.routes {
                    print("  route   \(route.method) \(route.path) [\(route.isProtected ? "protected" : "public"), \(route.writes ? "write" : "read")]")
                }
                for service in declaration.services { print("  service \(service.name)\(service.writes ? " (write)" : "")") }
                for slot in declaration.slots {
                    let filled = runtime.slots[slot.name]?.id == declaration.id ? " (filled)" : ""
                    print("  slot    \(slot.name)/\(slot.revision)\(filled)")
                }
                for use in declaration.slotUses { print("  uses    \(use.name)/\(use.revision)") }
                for point in declaration.hookPoints {
                    let bound = runtime.hooks[point.name].map { " → \($0.symbol) in \($0.library)" } ?? ""
                    print("  hook    \(point.name) \(point.signature)\(bound)")
                }
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load one plugin library against a scratch host and run the validator's named checks, each in a child process.")

        @Argument(help: "Path of the plugin's shared library (.so).")
        var file: String

        @Flag(help: "Print the results as one JSON object.")
        var json = false

        @Option(help: ArgumentHelp("Run only this check, in this process, and print its JSON result.", visibility: .hidden))
        var only: String?

        func run() async throws {
            if let only {
                let result = await PluginValidator.run(only, file: file)
                FileHandle.standardOutput.write(try JSONEncoder().encode(result))
                return
            }
            let report = PluginChecker.check(file: file)
            let results = PluginValidator.checks.map { ChildCheck.run($0.name, file: file) }
            let passed = report.passed && results.allSatisfy(\.passed)
            if json {
                struct Output: Encodable { let file: String; let passed: Bool; let checks: [PluginValidator.Result] }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(Output(file: report.file, passed: passed, checks: results)), as: UTF8.self))
            } else {
                print(report.text)
                print("checks:")
                for result in results {
                    print("  \(result.passed ? "PASS" : "FAIL") \(result.check)")
                    if !result.passed { for detail in result.details { print("       - \(detail)") } }
                }
                let count = results.filter(\.passed).count
                print(passed ? "OK: \(count) of \(results.count) checks passed" : "FAILED: \(count) of \(results.count) checks passed")
            }
            if !passed { throw ExitCode.failure }
        }
    }
}

/// One validator check in a child `stelltron` process: a plugin that traps, hangs or corrupts
/// memory fails that check and the validator goes on.
enum ChildCheck {
    static let timeoutSeconds = 60.0

    static func run(_ name: String, file: String) -> PluginValidator.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        process.arguments = ["plugins", "check", file, "--only", name]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            return .init(check: name, passed: false, details: ["could not start the check: \(error)"])
        }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        // Read while waiting, so a chatty child never blocks on a full pipe.
        let stdout = Box(), stderr = Box()
        let readers = DispatchGroup()
        for (pipe, box) in [(output, stdout), (errors, stderr)] {
            DispatchQueue.global().async(group: readers) { box.data = pipe.fileHandleForReading.readDataToEndOfFile() }
        }
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return .init(check: name, passed: false, details: ["did not finish within \(Int(timeoutSeconds)) s"])
        }
        readers.wait()
        if process.terminationReason == .uncaughtSignal {
            let tail = String(decoding: stderr.data.suffix(400), as: UTF8.self).split(separator: "\n").first { $0.contains("error") || $0.contains("Fatal") }
            return .init(check: name, passed: false, details: ["the plugin crashed the check (signal \(process.terminationStatus))" + (tail.map { ": \($0)" } ?? "")])
        }
        guard let result = try? JSONDecoder().decode(PluginValidator.Result.self, from: stdout.data) else {
            return .init(check: name, passed: false, details: ["exited \(process.terminationStatus) without a result: \(String(decoding: stderr.data.suffix(400), as: UTF8.self))"])
        }
        return result
    }

    private final class Box: @unchecked Sendable {
        // Sendable: written by one reader before `readers.wait()` returns, read after it.
        var data = Data()
    }
}

struct OpenAPI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openapi", abstract: "Print the OpenAPI 3.1 document of the plugins in plugins.conf (as served at /openapi.json).")

    @Option(help: "Path of plugins.conf.")
    var config = "plugins.conf"

    func run() async throws {
        var configuration = try loadConfiguration(config)
        configuration.databasePath = ":memory:"
        var logger = Logger(label: "stelltron")
        logger.logLevel = .warning
        let runtime = try loadRuntime(configuration, logger: logger)
        defer { runtime.shutdown() }
        FileHandle.standardOutput.write(OpenAPIDocument.build(runtime: runtime))
        print()
    }
}

/// The operator's console: a plugin service called with the host's authority, in one committed
/// transaction on the configured database (the server may be running: SQLite serialises writers).
/// This is how a micro-grid operator with shell access commissions a device.
struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call a plugin service on the configured database, e.g. iot.commission.",
        discussion: #"stelltron call iot.commission '{"device_id":"rpi-4b-prod-01","public_key":"<64 hex>","rated_kw":5}'"#)

    @Argument(help: "The service, e.g. iot.commission.")
    var service: String

    @Argument(help: "Its JSON request.")
    var request = "{}"

    @OptionGroup var target: DatabaseOptions

    func run() async throws {
        let runtime = try target.runtime()
        defer { runtime.shutdown() }
        let (status, body) = try await runtime.callService(service, json: Data(request.utf8))
        FileHandle.standardOutput.write(body)
        print()
        if status != 0 {
            fail("\(service) answered status \(status): \(String(decoding: body, as: UTF8.self))")
        }
    }
}

/// `stelltron backup --to FILE`: a consistent copy of the database while the server serves.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Copy the database to a new file, while the server runs (SQLite online backup).")

    @Option(help: "The new file to write (mode 0600).")
    var to: String

    @OptionGroup var target: DatabaseOptions

    func run() async throws {
        let path = try target.sqlitePath("backup", instead: "pg_dump")
        do {
            try DatabaseBackup.copy(from: path, to: to)
        } catch let error as StoreError {
            fail(error.message)
        }
        print("backed up \(path) to \(to)")
    }
}

/// `stelltron restore FILE`: replaces the database with a backup, never under a running server.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Replace the database with a backup (refused while a server runs on it).")

    @Argument(help: "The backup file.")
    var file: String

    @OptionGroup var target: DatabaseOptions

    func run() async throws {
        let path = try target.sqlitePath("restore", instead: "pg_restore")
        do {
            try DatabaseBackup.restore(from: file, to: path)
        } catch let error as StoreError {
            fail(error.message)
        }
        print("restored \(path) from \(file)")
    }
}

/// `stelltron ledger verify`: the whole journal re-checked from its first entry, offline or live.
struct Ledger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Ledger checks.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Re-hash the whole journal and re-add the balances; exit 1 if anything is off.")

        @OptionGroup var target: DatabaseOptions

        func run() async throws {
            let runtime = try target.runtime()
            defer { runtime.shutdown() }
            let (status, body) = try await runtime.callService("ledger.verify", json: Data(#"{"full":true}"#.utf8))
            FileHandle.standardOutput.write(body)
            print()
            let valid = (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["valid"] as? Bool == true
            if status != 0 || !valid { throw ExitCode.failure }
        }
    }
}

/// `stelltron config`: every setting, where it comes from and its default.
struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every [host] and [auth] key with its environment variable, option and default (a Markdown table).")

    func run() async throws {
        print(ConfigurationKey.markdownTable())
    }
}

/// The configuration and database an operator command works on.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "Path of plugins.conf.")
    var config = "plugins.conf"

    @Option(help: "SQLite file or postgres:// URL (beats STELLTRON_DATABASE, which beats plugins.conf).")
    var database: String?

    /// plugins.conf with `--database` applied, by the host's one rule.
    func configuration() throws -> HostConfiguration {
        try loadConfiguration(config, options: database.map { ["database": $0] } ?? [:])
    }

    /// `--database`, else STELLTRON_DATABASE, else plugins.conf: a SQLite file, for commands that
    /// copy files (PostgreSQL has its own tools for that).
    func sqlitePath(_ command: String, instead tool: String) throws -> String {
        let path = try configuration().databasePath
        if StorageEngines.isPostgres(path) { fail("\(command) copies a SQLite file; on PostgreSQL use \(tool)") }
        return path
    }

    /// Every plugin of plugins.conf loaded on that database, logging warnings only.
    func runtime() throws -> PluginRuntime {
        let configuration = try configuration()
        var logger = Logger(label: "stelltron")
        logger.logLevel = .warning
        return try loadRuntime(configuration, logger: logger)
    }
}

/// The configuration by the host's one rule (options, else environment, else plugins.conf, else
/// defaults), or an exit with one line naming the source and the problem.
func loadConfiguration(_ path: String, options: [String: String] = [:]) throws -> HostConfiguration {
    do {
        return try ConfigurationSources(file: path, environment: ProcessInfo.processInfo.environment, options: options).resolve()
    } catch let error as ConfigurationError {
        fail(error.description)
    }
}

/// Loads every plugin, or exits with one line naming the file and the problem.
func loadRuntime(_ configuration: HostConfiguration, logger: Logger) throws -> PluginRuntime {
    do {
        return try PluginRuntime(configuration: configuration, logger: logger)
    } catch let error as PluginLoadError {
        fail("refusing to start: \(error.description)")
    } catch let error as ConfigurationError {
        fail("refusing to start: \(error.description)")
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("stelltron: \(message)\n".utf8))
    exit(1)
}
