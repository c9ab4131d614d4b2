import Foundation
import Logging
import StelltronPluginKit

/// The named checks of `stelltron plugins check`, in the manner of clap-validator: each drives one
/// plugin library through the real ABI against a scratch host and reports what it found. The CLI
/// runs every check in a child process of its own, so a plugin that traps fails that check, not
/// the validator.
public enum PluginValidator {
    public struct Result: Codable, Sendable, Equatable {
        public var check: String
        public var passed: Bool
        /// One line per finding; for a passed check, what was exercised.
        public var details: [String]

        public init(check: String, passed: Bool, details: [String]) {
            self.check = check
            self.passed = passed
            self.details = details
        }
    }

    public struct Check: Sendable {
        public let name: String
        public let summary: String
        let run: @Sendable (String) async throws -> [String]
    }

    /// Every check, in the order the CLI runs them. A check's closure answers its problems (none:
    /// passed) and throws when the plugin cannot even be loaded.
    public static let checks: [Check] = [
        Check(name: "load", summary: "the descriptor passes every load check; tables carry the plugin's prefix; routes sit under /api/, /iot/ or /ws/",
              run: loadProblems),
        Check(name: "create-destroy", summary: "create and destroy work twice in a row, and destroy is idempotent", run: createDestroyProblems),
        Check(name: "routes-answer-json", summary: "every route answers JSON below 500 to {}; every write route answers 4xx {\"error\"} to garbage",
              run: routeProblems),
        Check(name: "services-answer", summary: "every service given {} answers a status and a body, without trapping", run: serviceProblems),
        Check(name: "schemas-parse", summary: "every declared request and response schema is a JSON object", run: schemaProblems),
        Check(name: "migrations-stable", summary: "migrations apply once; a second start applies nothing and finds each one unedited",
              run: migrationProblems),
        Check(name: "migrations-portable", summary: "every migration runs on PostgreSQL too: the host translates it, or it ships a PostgreSQL variant",
              run: portabilityProblems),
    ]

    /// Runs one check in this process.
    public static func run(_ name: String, file: String) async -> Result {
        guard let check = checks.first(where: { $0.name == name }) else {
            return Result(check: name, passed: false, details: ["no such check; known: \(checks.map(\.name).joined(separator: ", "))"])
        }
        let path = URL(fileURLWithPath: file).standardizedFileURL.path
        do {
            let problems = try await check.run(path)
            return Result(check: name, passed: problems.isEmpty, details: problems.isEmpty ? [check.summary] : problems)
        } catch let error as PluginLoadError {
            return Result(check: name, passed: false, details: [error.problem])
        } catch {
            return Result(check: name, passed: false, details: [String(describing: error)])
        }
    }

    // MARK: - The checks

    private static func loadProblems(_ file: String) async throws -> [String] {
        let report = PluginChecker.check(file: file)
        return report.violations
    }

    private static func createDestroyProblems(_ file: String) async throws -> [String] {
        let database = scratchDatabase()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: database).deletingLastPathComponent().path) }
        for _ in 0..<2 {
            let runtime = try scratchRuntime(file, database: database)
            runtime.shutdown()
            // A second destroy of the same instance must do nothing.
            runtime.plugins.first?.destroy()
        }
        return []
    }

    private static func routeProblems(_ file: String) async throws -> [String] {
        let runtime = try scratchRuntime(file, database: ":memory:")
        defer { runtime.shutdown() }
        var problems: [String] = []
        for registered in runtime.routes {
                let route = registered.route
                let path = route.path.split(separator: "/", omittingEmptySubsequences: false)
                    .map { $0.hasPrefix(":") ? "check" : String($0) }.joined(separator: "/")
                let user = route.isProtected ? AuthenticatedUser(id: "GVALIDATOR", role: "Recipient") : nil
                let bodies: [(String, Bool)] = route.method == "GET" ? [("", false)] : [("{}", false), ("{nope", true)]
                for (body, isGarbage) in bodies {
                    let request = HostRequest(method: route.method, path: path, pathParameters: parameters(route.path),
                                              headers: ["content-type": "application/json"], body: Data(body.utf8),
                                              clientIP: "127.0.0.1", requestID: "validator", user: user)
                    let label = "\(route.method) \(route.path) given \(body.isEmpty ? "no body" : body)"
                    do {
                        let answer = try await runtime.serve(registered, request)
                        if let problem = answerProblem(label, answer, garbage: isGarbage) { problems.append(problem) }
                    } catch {
                        problems.append("\(label): \(error)")
                    }
                }
        }
        return problems
    }

    private static func serviceProblems(_ file: String) async throws -> [String] {
        let runtime = try scratchRuntime(file, database: ":memory:")
        defer { runtime.shutdown() }
        var problems: [String] = []
        for name in runtime.plugins.flatMap(\.declaration.services).map(\.name) {
            do {
                // Any status is an answer; a trap ends this child process and fails the check.
                _ = try await runtime.callService(name, json: Data("{}".utf8))
            } catch {
                problems.append("\(name) given {}: \(error)")
            }
        }
        return problems
    }

    private static func schemaProblems(_ file: String) async throws -> [String] {
        let declaration = try PluginChecker.declaration(file: file)
        return declaration.routes.compactMap { route in
            PluginRegistry.schemaProblem(route).map { "\(route.method) \(route.path): \($0)" }
        }
    }

    /// What a host on PostgreSQL would refuse at load, found without one.
    private static func portabilityProblems(_ file: String) async throws -> [String] {
        let database = scratchDatabase()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: database).deletingLastPathComponent().path) }
        let runtime = try scratchRuntime(file, database: database)
        defer { runtime.shutdown() }
        return (runtime.plugins.first?.declaration.migrations ?? []).compactMap { migration in
            guard migration.postgresSQL == nil else { return nil }
            do {
                _ = try PostgresDialect.translateScript(migration.sql)
                return nil
            } catch let error as PostgresDialect.Untranslatable {
                return "migration \(migration.id): \(error.message)"
            } catch {
                return "migration \(migration.id): \(error)"
            }
        }
    }

    private static func migrationProblems(_ file: String) async throws -> [String] {
        let database = scratchDatabase()
        defer { try? FileManager.default.removeItem(atPath: URL(fileURLWithPath: database).deletingLastPathComponent().path) }
        let first = try scratchRuntime(file, database: database)
        let declared = first.plugins.first?.declaration.migrations.count ?? 0
        let id = first.plugins.first?.id ?? ""
        let recorded = try await first.store.read { session in
            try session.rows("SELECT COUNT(*) AS n FROM host_migrations WHERE plugin_id = ? AND checksum IS NOT NULL",
                             [.string(id)]).first?["n"]?.int64Value ?? 0
        }
        first.shutdown()
        var problems: [String] = []
        if recorded != Int64(declared) { problems.append("\(declared) migrations declared, \(recorded) recorded with a checksum") }
        // The second start must find every migration applied and unedited (it throws otherwise).
        let second = try scratchRuntime(file, database: database)
        second.shutdown()
        return problems
    }

    // MARK: - Helpers

    /// What is wrong with one answer, or nil: JSON always, below 500 always, and a 4xx with an
    /// `error` string for a garbage body.
    private static func answerProblem(_ label: String, _ answer: HostResponse, garbage: Bool) -> String? {
        guard let json = try? JSONValue.parse(answer.body) else { return "\(label): answered \(answer.status) with a body that is not JSON" }
        if answer.status >= 500 { return "\(label): answered \(answer.status) \(String(decoding: answer.body.prefix(200), as: UTF8.self))" }
        if garbage {
            guard (400..<500).contains(answer.status) else { return "\(label): answered \(answer.status), not a 4xx" }
            guard json["error"]?.stringValue != nil else { return "\(label): a 4xx without {\"error\": \"...\"}" }
        }
        return nil
    }

    private static func parameters(_ pattern: String) -> [String: String] {
        var parameters: [String: String] = [:]
        for segment in pattern.split(separator: "/") where segment.hasPrefix(":") {
            parameters[String(segment.dropFirst())] = "check"
        }
        return parameters
    }

    private static func scratchDatabase() -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stelltron-validator-\(UUID().uuidString)")
        return folder.appendingPathComponent("check.sqlite").path
    }

    private static func scratchRuntime(_ file: String, database: String) throws -> PluginRuntime {
        let declaration = try PluginChecker.declaration(file: file)
        var configuration = HostConfiguration(plugins: [.init(id: declaration.id, library: file)])
        configuration.databasePath = database
        var logger = Logger(label: "stelltron.validator")
        logger.logLevel = .critical
        return try PluginRuntime(configuration: configuration, logger: logger)
    }
}
