import Foundation
import Hummingbird
import Logging
import StelltronHost

/// What finding a route costs, in ns per request, without sockets, middleware or plugins: the
/// host's whole route table (every plugin path of plugins.conf's three read plugins and the host's
/// own, five methods each, as `PluginRoutes` mounts them) behind Hummingbird's router, each
/// answering an empty 200. `/health` (one component), a wallet's balance (five components, the last
/// 56 characters long) and the price (four), against a router holding only `/health`. Prints
/// figures; none asserts.
enum RoutingBenchmark {
    static let wallet = "GBENCHROUTINGWALLET0000000000000000000000000000000000000"

    static func run(pluginDirectory: String?) async throws {
        let directory = URL(fileURLWithPath: pluginDirectory
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path).standardizedFileURL.path
        var configuration = HostConfiguration(plugins: ["ledger", "market", "iot", "defi", "depin"].map {
            .init(id: $0, library: "\(directory)/libStelltron\($0 == "iot" ? "IoT" : $0.capitalized).so")
        })
        configuration.databasePath = ":memory:"
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let runtime = try PluginRuntime(configuration: configuration, logger: logger)
        defer { runtime.shutdown() }
        let paths = Set(runtime.routes.map(\.route.path) + HostRoute.all.map(\.path))

        let full = responder(paths)
        let alone = responder(["/health"])
        let health = try await perRequest(full, "/health")
        let healthAlone = try await perRequest(alone, "/health")
        let balance = try await perRequest(full, "/api/v1/ledger/balance/\(wallet)")
        let price = try await perRequest(full, "/api/v1/market/price")
        // The host's own table, which finds plugin routes before the trie (`PluginRouteTable`).
        let table = PluginRouteTable(Dictionary(uniqueKeysWithValues: runtime.routes.map(\.route.path).map { path in
            (path, Dictionary(uniqueKeysWithValues: PluginRouteTable.methods.map { ($0, constant) }))
        }), otherPaths: HostRoute.all.map(\.path))
        let tableBalance = try perMatch(table, "/api/v1/ledger/balance/\(wallet)")
        let tablePrice = try perMatch(table, "/api/v1/market/price")
        print(String(format: "routes=%d health_alone_ns=%.0f health_ns=%.0f balance_ns=%.0f price_ns=%.0f balance_over_health_ns=%.0f table_balance_ns=%.0f table_price_ns=%.0f",
                     paths.count * PluginRouteTable.methods.count, healthAlone, health, balance, price, balance - health, tableBalance, tablePrice))
    }

    static let constant: any HTTPResponder<HostRequestContext> = CallbackResponder { _, _ in Response(status: .ok) }

    /// Finding a route in the host's table alone (no responder called): what replaces the trie.
    static func perMatch(_ table: PluginRouteTable, _ path: String) throws -> Double {
        guard table.match(.get, path) != nil else { throw PluginLoadError(file: path, "the table does not find it") }
        return ReadBenchmark.perCall {
            guard let found = table.match(.get, path) else { preconditionFailure("found once, not again") }
            precondition(!found.route.endpointPath.isEmpty)
        }
    }

    /// A router answering every method of every path with a constant body.
    static func responder(_ paths: Set<String>) -> RouterResponder<RoutingContext> {
        let router = Router(context: RoutingContext.self)
        for path in paths.sorted() {
            for method in PluginRouteTable.methods {
                router.on(RouterPath(path), method: method) { _, _ in Response(status: .ok) }
            }
        }
        return router.buildResponder()
    }

    static func perRequest(_ responder: RouterResponder<RoutingContext>, _ path: String) async throws -> Double {
        let request = Request(head: .init(method: .get, scheme: "http", authority: "localhost", path: path),
                              body: RequestBody(buffer: ByteBuffer()))
        let context = RoutingContext(source: RoutingSource(logger: Logger(label: "bench")))
        let answer = try await responder.respond(to: request, context: context)
        guard answer.status == .ok else { throw PluginLoadError(file: path, "the router answered \(answer.status.code)") }
        return try await ReadBenchmark.perCall {
            _ = try await responder.respond(to: request, context: context)
        }
    }
}

struct RoutingSource: RequestContextSource {
    let logger: Logger
}

/// The smallest request context: Hummingbird's core storage and nothing of the host's.
struct RoutingContext: RequestContext {
    typealias Source = RoutingSource
    var coreContext: CoreRequestContextStorage
    init(source: RoutingSource) { coreContext = CoreRequestContextStorage(source: source) }
}
