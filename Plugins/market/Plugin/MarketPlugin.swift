import Foundation
import MarketCore
import StelltronPluginKit

/// The market plugin: the order book with immediate matching, the default `pricing` slot, and the
/// trade history. LT reservations, burns and trade records go through the ledger's services.
final class MarketPlugin: StelltronPlugin {
    static let manifest = PluginManifest(
        id: "market",
        version: "1.0.0",
        description: "order book, matching and dynamic pricing",
        routes: [
            Route(.get, "/api/v1/market/orders", access: .protected, mode: .read, summary: "Open orders"),
            Route(.post, "/api/v1/market/order/create", access: .protected, mode: .write, summary: "Place a buy or sell order",
                  requestSchema: #"{"type":"object","properties":{"type":{"type":"string","enum":["buy","sell"]},"kwh_amount":{"type":"number","minimum":0.001,"maximum":1000},"token_price":{"type":"number","minimum":0.01,"maximum":1000000}},"required":["type","kwh_amount","token_price"]}"#),
            Route(.post, "/api/v1/market/order/cancel", access: .protected, mode: .write, summary: "Cancel an open order",
                  requestSchema: #"{"type":"object","properties":{"order_id":{"type":"string"}},"required":["order_id"]}"#),
            // A read: it quotes through `pricing.current`, which records nothing, so price reads run
            // on snapshots in parallel instead of queueing for the writer.
            Route(.get, "/api/v1/market/price", access: .protected, mode: .read, summary: "The dynamic price with its factors"),
            Route(.get, "/api/v1/market/history", access: .protected, mode: .read, summary: "The last 50 trade prices"),
            Route(.get, "/api/v1/market/depth", access: .public, mode: .read,
                  summary: "The open order book by side and price level (no order ids, no users)",
                  responseSchema: #"{"type":"object","properties":{"buy":{"type":"array"},"sell":{"type":"array"}},"required":["buy","sell"]}"#),
        ],
        services: [
            Service("pricing.quote", writes: true, summary: "quote the price; {record: always|if_changed|never}"),
            Service("pricing.current", writes: false, summary: "the price now, recording nothing (for reads)"),
            Service("market.list_auto_sell", writes: true, summary: "list an owner's delivered energy for sale at the current quote"),
            Service("market.stats", writes: false, summary: "open orders and trade counts"),
        ],
        // pricing/2 = pricing/1 plus the read-only `pricing.current`.
        slots: [Slot("pricing", revision: 2)],
        migrations: Schema.migrations,
        hookPoints: PricingHooks.points,
        // The price route and auto-sell quote through the slot, whichever plugin fills it.
        slotUses: [Slot("pricing", revision: 2)],
        // Goes on matching orders whose matching a request cut short (OrderLimits), and records
        // the price in the history when telemetry moved it (at most once a minute).
        tickIntervalMilliseconds: 1_000
    )

    let formula: PricingFormula
    let hooks: PricingHooks
    let limits: OrderLimits

    init(config: JSONValue, host: PluginHost) throws {
        formula = try Pricing.formula(from: config)
        hooks = try PricingHooks(host: host)
        limits = try OrderLimits(config: config)
    }

    func tick(host: PluginHost) throws {
        let trades = try Orders(host: host, limits: limits).matchPending(budget: limits.maxFillsPerRequest)
        try publishQuote(host, traded: trades > 0)
    }

    func handle(_ request: PluginRequest, host: PluginHost) throws -> PluginResponse {
        let orders = Orders(host: host, limits: limits)
        switch request.route {
        case "/api/v1/market/orders":
            return try .json(try orders.openOrders())
        case "/api/v1/market/order/create":
            let user = try request.requireUser()
            let input = try request.decode(Orders.Placement.self)
            let (side, kwh, price) = try Orders.validate(input)
            let placed = try orders.place(user: user, side: side, kwh: kwh, price: price)
            try publishQuote(host, traded: !placed.trades.isEmpty)
            return try .json(PlacedJSON(placed), status: 201)
        case "/api/v1/market/order/cancel":
            let user = try request.requireUser()
            struct Cancel: Decodable { var order_id: String }
            try orders.cancel(try request.decode(Cancel.self).order_id, user: user)
            try publishQuote(host, traded: false)
            return try .json(["message": "Order cancelled successfully"])
        case "/api/v1/market/price":
            // Through the slot, so that a formula plugin named in plugins.conf answers here too. A
            // GET records nothing: the tick and the trades keep the history.
            return PluginResponse(status: 200, body: try host.callRaw("pricing.current", Data()))
        case "/api/v1/market/depth":
            return try .json(try orders.depth())
        case "/api/v1/market/history":
            return try .json(try History.recent(host, timeZone: formula.timeZone))
        default:
            throw PluginError.notFound("no route \(request.route)")
        }
    }

    func callService(_ name: String, request: Data, host: PluginHost) throws -> Data {
        let pricing = Pricing(formula: formula, hooks: hooks, host: host)
        switch name {
        case "pricing.quote":
            let input = request.isEmpty ? Pricing.Request() : try JSONCoding.decodeBody(Pricing.Request.self, from: request)
            return try JSONCoding.encode(try pricing.quote(record: input.record ?? "if_changed"))
        case "pricing.current":
            return try JSONCoding.encode(try pricing.quote(record: "never"))
        case "market.list_auto_sell":
            struct AutoSell: Decodable { var owner: String; var role: String?; var kwh_amount: Double }
            let input = try JSONCoding.decodeBody(AutoSell.self, from: request)
            let quote = try Self.slotQuote(host, record: "always")
            let (_, kwh, price) = try Orders.validate(.init(type: "sell", kwh_amount: input.kwh_amount, token_price: quote.price))
            struct StoredUser: Decodable { let role: String }
            let role = try input.role ?? host.call("host.users.get", ["id": input.owner], as: StoredUser.self).role
            let placed = try Orders(host: host, limits: limits).place(
                user: .init(id: input.owner, role: role), side: .sell, kwh: kwh, price: price, source: "auto")
            try publishQuote(host, traded: !placed.trades.isEmpty)
            struct Listed: Encodable { let order_id: String; let price: Double; let trades: Int }
            return try JSONCoding.encode(Listed(order_id: placed.order.id, price: quote.price, trades: placed.trades.count))
        case "market.stats":
            let rows = try host.query("SELECT type, n FROM market_open_counts")
            let buys = rows.first { $0["type"]?.stringValue == "buy" }?["n"]?.int64Value ?? 0
            let sells = rows.first { $0["type"]?.stringValue == "sell" }?["n"]?.int64Value ?? 0
            let trades = try host.query("SELECT COUNT(*) AS n FROM market_trades").first?["n"]?.int64Value ?? 0
            return try JSONCoding.encode(["open_orders": buys + sells, "open_buy_orders": buys, "open_sell_orders": sells, "total_trades": trades])
        default:
            throw PluginError(.unknownService, "market has no service \(name)")
        }
    }

    /// A quote from whichever plugin fills the `pricing` slot.
    struct SlotQuote: Decodable { let price: Double }

    static func slotQuote(_ host: PluginHost, record: String) throws -> (price: Double, raw: JSONValue) {
        let data = try host.callRaw("pricing.quote", try JSONCoding.encode(["record": record]))
        let quote = try JSONCoding.decode(SlotQuote.self, from: data)
        guard quote.price.isFinite, quote.price > 0 else { throw PluginError.internalError("the pricing slot answered a price of \(quote.price)") }
        return (quote.price, try JSONCoding.decode(JSONValue.self, from: data))
    }

    /// Quotes after a change to the book (recorded always after a trade) and, when the price
    /// moved since the last tick, emits a `price_tick` for the live market feed.
    private func publishQuote(_ host: PluginHost, traded: Bool) throws {
        let quote = try Self.slotQuote(host, record: traded ? "always" : "if_changed")
        let last = try host.query("SELECT price FROM market_last_tick WHERE id = 1").first?["price"]?.doubleValue
        guard last != quote.price else { return }
        try host.execute("INSERT INTO market_last_tick (id, price) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET price = excluded.price",
                         [.double(quote.price)])
        try host.emit("price_tick", quote.raw)
    }

    /// The create answer: the order's own fields, plus the trades it made.
    struct PlacedJSON: Encodable {
        let placed: Orders.Placed
        init(_ placed: Orders.Placed) { self.placed = placed }

        enum Keys: String, CodingKey { case id, user_id, type, kwh_amount, remaining_kwh, token_price, status, created_at, trades }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            let order = placed.order
            try container.encode(order.id, forKey: .id)
            try container.encode(order.user_id, forKey: .user_id)
            try container.encode(order.type, forKey: .type)
            try container.encode(order.kwh_amount, forKey: .kwh_amount)
            try container.encode(order.remaining_kwh, forKey: .remaining_kwh)
            try container.encode(order.token_price, forKey: .token_price)
            try container.encode(order.status, forKey: .status)
            try container.encode(order.created_at, forKey: .created_at)
            try container.encode(placed.trades, forKey: .trades)
        }
    }
}

/// `/market/history`: the last 50 trades, oldest first, as `{price, timestamp "HH:MM"}`.
enum History {
    struct Point: Encodable {
        let price: Double
        let timestamp: String
    }

    static func recent(_ host: PluginHost, timeZone: TimeZone) throws -> [Point] {
        let rows = try host.query("SELECT price_micro, created_ms FROM market_trades ORDER BY seq DESC LIMIT 50")
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return rows.reversed().map { row in
            let date = Date(timeIntervalSince1970: Double(row["created_ms"]?.int64Value ?? 0) / 1000)
            let parts = calendar.dateComponents([.hour, .minute], from: date)
            return Point(price: Units.fromMicro(row["price_micro"]?.int64Value ?? 0),
                         timestamp: String(format: "%02d:%02d", parts.hour ?? 0, parts.minute ?? 0))
        }
    }
}

@_cdecl("stl_plugin_entry")
public func stl_plugin_entry(_ hostABIMajor: UInt32, _ hostABIMinor: UInt32) -> UnsafeRawPointer? {
    exportPlugin(MarketPlugin.self, hostABIMajor: hostABIMajor)
}
