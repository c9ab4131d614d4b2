import Foundation
import GRDB
import Logging
import StelltronHost

/// Layers of a one-query plugin read, without HTTP, in ns per call: one query in a read from
/// GRDB's pool (the baseline: how reads ran before) and on the calling thread's own connection
/// (how read routes run now), the same query inside an open read, and the whole runtime serving
/// `/iot/nodes/:device_id` on the calling thread (snapshot, ABI crossing, the plugin's query and
/// JSON), and `GET /api/v1/market/price` the same way (the pricing slot, the telemetry service,
/// their queries and JSON; the caller given, so no role read). `nodes_two_tasks_ns` serves
/// `/iot/nodes` from two tasks at once (two cores, as two event loops do): the time per call of
/// each, which is `nodes_route_ns` again when the two share nothing that serialises them.
/// Prints figures; none asserts.
enum ReadBenchmark {
    static let iterations = 50_000
    static let query = "SELECT plugin_id FROM host_migrations LIMIT 1"

    static func run(pluginDirectory: String?) async throws {
        let directory = URL(fileURLWithPath: pluginDirectory
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path).standardizedFileURL.path
        var configuration = HostConfiguration(plugins: [
            .init(id: "ledger", library: "\(directory)/libStelltronLedger.so"),
            .init(id: "market", library: "\(directory)/libStelltronMarket.so"),
            .init(id: "iot", library: "\(directory)/libStelltronIoT.so"),
        ])
        configuration.databasePath = ":memory:"
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let runtime = try PluginRuntime(configuration: configuration, logger: logger)
        guard let store = runtime.store as? Store,
              let ping = runtime.routes.first(where: { $0.route.path == "/iot/ping" }),
              let nodes = runtime.routes.first(where: { $0.route.path == "/iot/nodes/:device_id" }),
              let price = runtime.routes.first(where: { $0.route.path == "/api/v1/market/price" }) else {
            throw PluginLoadError(file: directory, "the read benchmark needs the ledger, market and iot plugins on SQLite")
        }
        _ = try await runtime.serve(ping, HostRequest(method: "POST", path: "/iot/ping",
                                                      body: Data(#"{"device_id":"rpi-1","voltage":3.9,"battery_level":50}"#.utf8)))
        let request = HostRequest(method: "GET", path: "/iot/nodes/rpi-1", pathParameters: ["device_id": "rpi-1"])

        let (pool, inside) = try poolReads(store)
        let callingThread = try await perCall {
            _ = try store.readOnCallingThread { session in try session.query(query, parametersJSON: Data("[]".utf8)) }
        }
        let route = try await perCall { _ = try await runtime.serve(nodes, request) }
        let twoTasks = try await perCallOnEach(of: 2) { _ = try await runtime.serve(nodes, request) }
        let priceRequest = HostRequest(method: "GET", path: "/api/v1/market/price", user: AuthenticatedUser(id: "bench", role: "Donor"))
        let priceRoute = try await perCall {
            let answer = try await runtime.serve(price, priceRequest)
            guard answer.status == 200 else { throw PluginLoadError(file: directory, "price answered \(answer.status)") }
        }
        let (roleJSON, role) = try await roleReads(store)
        print(String(format: "pool_read_ns=%.0f calling_thread_read_ns=%.0f ratio=%.2f query_in_open_read_ns=%.0f nodes_route_ns=%.0f nodes_two_tasks_ns=%.0f price_route_ns=%.0f role_read_json_ns=%.0f role_read_ns=%.0f",
                     pool, callingThread, callingThread / pool, inside, route, twoTasks, priceRoute, roleJSON, role))
    }

    /// The caller's role, as every protected request reads it, inside an open read: through the
    /// JSON rows every plugin query gets (the baseline) and through `firstText` (how it is read).
    static func roleReads(_ store: Store) async throws -> (json: Double, typed: Double) {
        let id = "GBENCHROLEREADER"
        let stored = try await store.writeTransaction { session in try UserStore.signUp(id, at: Date(), in: session) }.user.role
        return try store.readOnCallingThread { session in
            let json = try perCall {
                let role = try session.rows("SELECT role FROM host_users WHERE id = ?", [.string(id)]).first?["role"]?.stringValue
                guard role == stored else { throw PluginLoadError(file: id, "the JSON read answered \(role ?? "no row")") }
            }
            let typed = try perCall {
                let role = try UserStore.role(of: id, in: session)
                guard role == stored else { throw PluginLoadError(file: id, "the typed read answered \(role ?? "no row")") }
            }
            return (json, typed)
        }
    }

    /// Synchronous: inside an `async` function the compiler picks GRDB's async `read`.
    static func poolReads(_ store: Store) throws -> (oneQuery: Double, inside: Double) {
        let oneQuery = try perCall { _ = try store.pool.read { db in try Row.fetchOne(db.cachedStatement(sql: query)) } }
        let inside = try store.pool.read { db in try perCall { _ = try Row.fetchOne(db.cachedStatement(sql: query)) } }
        return (oneQuery, inside)
    }

    /// The best of five runs of `iterations` calls, in ns per call.
    static func perCall(_ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<5 {
            let elapsed = try ContinuousClock().measure { for _ in 0..<iterations { try body() } }
            best = min(best, ABIBenchmark.nanoseconds(elapsed) / Double(iterations))
        }
        return best
    }

    static func perCall(_ body: () async throws -> Void) async rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<5 {
            let start = ContinuousClock.now
            for _ in 0..<iterations { try await body() }
            best = min(best, ABIBenchmark.nanoseconds(ContinuousClock.now - start) / Double(iterations))
        }
        return best
    }

    /// `tasks` tasks each making `iterations` calls at once: the best of five, in ns per call of one task.
    static func perCallOnEach(of tasks: Int, _ body: @escaping @Sendable () async throws -> Void) async throws -> Double {
        var best = Double.infinity
        for _ in 0..<5 {
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<tasks {
                    group.addTask { for _ in 0..<iterations { try await body() } }
                }
                try await group.waitForAll()
            }
            best = min(best, ABIBenchmark.nanoseconds(ContinuousClock.now - start) / Double(iterations))
        }
        return best
    }
}
