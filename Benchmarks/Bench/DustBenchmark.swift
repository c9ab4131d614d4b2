import Foundation
import Logging
import StelltronHost

/// The worst case for the single writer (issue 13, item 10): one sell that crosses 3 000 dust buy
/// orders of 0.001 kWh (the smallest order allowed). Timed with matching bounded per request (the
/// shipped `max_fills_per_request`) and unbounded (the former behaviour), each beside a plain order
/// that crosses nothing in the same book. Prints milliseconds per request and the ratios.
enum DustBenchmark {
    static let users = 60, ordersPerUser = 50

    static func run(pluginDirectory: String?) async throws {
        let directory = URL(fileURLWithPath: pluginDirectory
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path).standardizedFileURL.path
        let bounded = try await measure(directory: directory, maxFills: 50)
        let unbounded = try await measure(directory: directory, maxFills: 10_000)
        print(String(format: "dust_sell_bounded_ms=%.1f fills=%d plain_order_ms=%.2f ratio=%.0f | unbounded_ms=%.1f fills=%d ratio=%.0f | resting_buys=%d",
                     bounded.crossing, bounded.fills, bounded.plain, bounded.crossing / bounded.plain,
                     unbounded.crossing, unbounded.fills, unbounded.crossing / unbounded.plain, users * ordersPerUser))
    }

    private static func measure(directory: String, maxFills: Int) async throws -> (crossing: Double, plain: Double, fills: Int) {
        var configuration = HostConfiguration(plugins: [
            .init(id: "ledger", library: "\(directory)/libStelltronLedger.so"),
            .init(id: "market", library: "\(directory)/libStelltronMarket.so",
                  config: ["max_fills_per_request": .int(Int64(maxFills)), "max_open_orders_per_user": .int(Int64(ordersPerUser))]),
        ])
        configuration.databasePath = ":memory:"
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let runtime = try PluginRuntime(configuration: configuration, logger: logger)
        defer { runtime.shutdown() }
        guard let create = runtime.routes.first(where: { $0.route.method == "POST" && $0.route.path == "/api/v1/market/order/create" }) else {
            throw BenchError.missing("the market's order route")
        }
        func place(_ user: String, _ body: String) async throws -> (ms: Double, trades: Int) {
            let request = HostRequest(method: "POST", path: "/api/v1/market/order/create", body: Data(body.utf8),
                                      user: AuthenticatedUser(id: user, role: "Donor"))
            var response = HostResponse(status: 0, body: Data())
            let elapsed = try await ContinuousClock().measure { response = try await runtime.serve(create, request) }
            guard response.status == 201 else { throw BenchError.missing("a placed order: \(String(decoding: response.body, as: UTF8.self))") }
            let trades = ((try JSONSerialization.jsonObject(with: response.body) as? [String: Any])?["trades"] as? [Any])?.count ?? 0
            return (ABIBenchmark.nanoseconds(elapsed) / 1e6, trades)
        }
        for _ in 0..<users {
            let buyer = address()
            for _ in 0..<ordersPerUser { _ = try await place(buyer, #"{"type":"buy","kwh_amount":0.001,"token_price":5}"#) }
        }
        let seller = address()
        _ = try await runtime.callService("ledger.mint", json: Data(#"{"account":"\#(seller)","amount_micro":100000000000,"reason":"bench"}"#.utf8))
        var plain = Double.infinity
        for _ in 0..<5 { plain = min(plain, try await place(seller, #"{"type":"sell","kwh_amount":0.001,"token_price":50}"#).ms) }
        let crossing = try await place(seller, #"{"type":"sell","kwh_amount":3,"token_price":5}"#)
        return (crossing.ms, plain, crossing.trades)
    }

    /// A wallet address no one holds the key of (accounts must be addresses).
    private static func address() -> String {
        StellarAddress(publicKey: (0..<32).map { _ in UInt8.random(in: 0...255) }).description
    }

    enum BenchError: Error { case missing(String) }
}
