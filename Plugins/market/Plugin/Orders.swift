import Foundation
import LedgerClient
import MarketCore
import StelltronPluginKit

/// Orders in storage: placing (with the LT reservation of a sell and immediate matching),
/// cancelling, listing. Everything runs in the request's transaction: a failed step leaves no
/// order, no reservation and no trade behind.
struct Orders {
    let host: PluginHost
    let limits: OrderLimits

    static let open = "('Created', 'PartiallyFilled')"
    /// The smallest order, the energy reports' floor: no dust that costs a fill each.
    static let minKWh = 0.001
    static let maxKWh = 1000.0
    static let maxPrice = 1_000_000.0

    struct Placement: Decodable {
        var type: String
        var kwh_amount: Double
        var token_price: Double
    }

    struct OrderJSON: Encodable {
        let id: String
        let user_id: String
        let type: String
        let kwh_amount: Double
        let remaining_kwh: Double
        let token_price: Double
        let status: String
        let created_at: String
    }

    struct TradeJSON: Encodable {
        let id: String
        let donor_id: String
        let recipient_id: String
        let kwh_amount: Double
        let token_price: Double
        let token_amount: Double
        let fee: Double
        let status: String
        let tx_hash: String
        let timestamp: String
    }

    struct Placed: Encodable {
        let order: OrderJSON
        let trades: [TradeJSON]
    }

    static func validate(_ input: Placement) throws -> (side: Side, kwh: Int64, price: Int64) {
        guard let side = Side(rawValue: input.type) else { throw PluginError.badRequest("type must be buy or sell") }
        guard input.kwh_amount.isFinite, input.kwh_amount >= minKWh, input.kwh_amount <= maxKWh else {
            throw PluginError.badRequest("kwh_amount must be a number from \(minKWh) to \(Int(maxKWh))")
        }
        guard input.token_price.isFinite, input.token_price > 0, input.token_price <= maxPrice else {
            throw PluginError.badRequest("token_price must be a number greater than 0 and at most \(Int(maxPrice))")
        }
        let kwh = Units.toMicro(input.kwh_amount), price = Units.toMicro(input.token_price)
        guard kwh > 0, price > 0 else { throw PluginError.badRequest("amounts below one millionth are not supported") }
        return (side, kwh, price)
    }

    /// Places an order for `user` and matches it at once, up to `limits.maxFillsPerRequest` fills;
    /// the tick goes on matching what is left of it.
    func place(user: PluginRequest.Caller, side: Side, kwh: Int64, price: Int64, source: String = "user") throws -> Placed {
        let open = try host.query("SELECT n FROM market_user_open_counts WHERE user_id = ?", [.text(user.id)]).first?["n"]?.int64Value ?? 0
        guard open < limits.maxOpenOrdersPerUser else {
            throw PluginError.conflict("at most \(limits.maxOpenOrdersPerUser) open orders per user: cancel one first")
        }
        if side == .sell && user.role == "Recipient" {
            struct Promotion: Encodable { let id: String; let role: String }
            _ = try host.callRaw("host.users.set_role", try JSONCoding.encode(Promotion(id: user.id, role: "Donor")))
        }
        let id = try Units.uuid(host)
        if side == .sell {
            try LedgerClient(host: host).lock(user.id, escrow: "order-\(id)", kwh * Units.microLTPerMicroKWh, reference: id)
        }
        let seq = try host.nextValue(of: "seq", in: "market_orders")
        let now = Timestamp.iso8601(host.now())
        try host.execute("""
            INSERT INTO market_orders (id, seq, user_id, type, kwh_micro, remaining_micro, price_micro, status, source, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'Created', ?, ?)
            """, [.text(id), .int(seq), .text(user.id), .text(side.rawValue), .int(kwh), .int(kwh), .int(price), .text(source), .text(now)])
        let incoming = BookOrder(id: id, userID: user.id, side: side, price: price, remaining: kwh, sequence: seq)
        let trades = try matchBounded(incoming, budget: limits.maxFillsPerRequest, wasPending: false)
        return Placed(order: try find(id)!, trades: trades)
    }

    /// Goes on matching orders whose matching was cut short, within `budget` fills; answers the
    /// number of trades made.
    func matchPending(budget: Int) throws -> Int {
        var made = 0
        while made < budget {
            guard let row = try host.query("""
                SELECT id, user_id, type, price_micro, remaining_micro, seq FROM market_orders
                WHERE pending_match = 1 ORDER BY seq LIMIT 1
                """).first, let order = Self.bookOrder(row) else { break }
            made += try matchBounded(order, budget: budget - made, wasPending: true).count
        }
        return made
    }

    /// Matches `incoming` with at most `budget` fills and marks it pending when more could follow
    /// (or no longer pending, when it was and nothing more crosses).
    private func matchBounded(_ incoming: BookOrder, budget: Int, wasPending: Bool) throws -> [TradeJSON] {
        let (trades, remaining) = try match(incoming, budget: budget)
        let pending = remaining > 0 && trades.count >= budget
        if pending != wasPending {
            try host.execute("UPDATE market_orders SET pending_match = ? WHERE id = ?", [.int(pending ? 1 : 0), .text(incoming.id)])
        }
        return trades
    }

    /// Matches `incoming` against the resting orders that cross it, best first, in at most
    /// `budget` fills.
    private func match(_ incoming: BookOrder, budget: Int) throws -> (trades: [TradeJSON], remaining: Int64) {
        let opposite = incoming.side == .buy ? "sell" : "buy"
        let priceTest = incoming.side == .buy ? "price_micro <= ?" : "price_micro >= ?"
        let order = incoming.side == .buy ? "price_micro ASC, seq ASC" : "price_micro DESC, seq ASC"
        var remaining = incoming.remaining
        var trades: [TradeJSON] = []
        // Candidates come in batches so a huge book is never loaded whole.
        while remaining > 0 && trades.count < budget {
            let rows = try host.query("""
                SELECT id, user_id, type, price_micro, remaining_micro, seq FROM market_orders
                WHERE type = ? AND status IN \(Self.open) AND \(priceTest) AND user_id <> ?
                ORDER BY \(order) LIMIT ?
                """, [.text(opposite), .int(incoming.price), .text(incoming.userID), .int(Int64(min(100, budget - trades.count)))])
            if rows.isEmpty { break }
            var current = incoming
            current.remaining = remaining
            let (fills, _) = MatchingEngine.match(current, against: rows.compactMap(Self.bookOrder))
            if fills.isEmpty { break }
            for fill in fills.prefix(budget - trades.count) {
                trades.append(try execute(fill))
                remaining -= fill.quantity
            }
        }
        return (trades, remaining)
    }

    /// Records one fill: both orders reduced, the seller's reserved LT burned, the trade chained
    /// in the ledger, a `trade` event for the live feeds.
    private func execute(_ fill: Fill) throws -> TradeJSON {
        for orderID in [fill.buyOrderID, fill.sellOrderID] {
            try host.execute("""
                UPDATE market_orders SET remaining_micro = remaining_micro - ?,
                    status = CASE WHEN remaining_micro - ? = 0 THEN 'Matched' ELSE 'PartiallyFilled' END,
                    pending_match = CASE WHEN remaining_micro - ? = 0 THEN 0 ELSE pending_match END
                WHERE id = ?
                """, [.int(fill.quantity), .int(fill.quantity), .int(fill.quantity), .text(orderID)])
        }
        let tradeID = try Units.uuid(host)
        let amount = Units.tokenAmount(kwh: fill.quantity, price: fill.price)
        let fee = Units.fee(of: amount)
        let ledger = LedgerClient(host: host)
        try ledger.burn(from: "escrow:order-\(fill.sellOrderID)", fill.quantity * Units.microLTPerMicroKWh,
                        reason: "energy delivered in trade", reference: tradeID)
        let now = host.now()
        let trade = TradeJSON(
            id: tradeID, donor_id: fill.sellerID, recipient_id: fill.buyerID, kwh_amount: Units.fromMicro(fill.quantity),
            token_price: Units.fromMicro(fill.price), token_amount: Units.fromMicro(amount), fee: Units.fromMicro(fee),
            status: "Completed", tx_hash: "", timestamp: Timestamp.iso8601(now))
        let hash = try ledger.record(LedgerRequest.Trade(id: trade.id, donor_id: trade.donor_id, recipient_id: trade.recipient_id,
                                                         kwh_amount: trade.kwh_amount, token_price: trade.token_price,
                                                         token_amount: trade.token_amount, fee: trade.fee, status: trade.status))
        let seq = try host.nextValue(of: "seq", in: "market_trades")
        try host.execute("""
            INSERT INTO market_trades (seq, id, buy_order_id, sell_order_id, donor_id, recipient_id, kwh_micro, price_micro,
                                       token_amount_micro, fee_micro, tx_hash, created_at, created_ms)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.int(seq), .text(tradeID), .text(fill.buyOrderID), .text(fill.sellOrderID), .text(fill.sellerID),
                  .text(fill.buyerID), .int(fill.quantity), .int(fill.price), .int(amount), .int(fee), .text(hash),
                  .text(trade.timestamp), .int(Int64(now.timeIntervalSince1970 * 1000))])
        let recorded = TradeJSON(id: trade.id, donor_id: trade.donor_id, recipient_id: trade.recipient_id, kwh_amount: trade.kwh_amount,
                                 token_price: trade.token_price, token_amount: trade.token_amount, fee: trade.fee,
                                 status: trade.status, tx_hash: hash, timestamp: trade.timestamp)
        try host.emit("trade", recorded)
        return recorded
    }

    /// Cancels an open order of `user`, returning the unfilled reservation of a sell.
    func cancel(_ orderID: String, user: PluginRequest.Caller) throws {
        guard let row = try host.query("SELECT user_id, type, remaining_micro, status FROM market_orders WHERE id = ?", [.text(orderID)]).first else {
            throw PluginError.notFound("order not found")
        }
        guard row["user_id"]?.stringValue == user.id else { throw PluginError.forbidden("only the owner can cancel an order") }
        let status = row["status"]?.stringValue ?? ""
        guard status == "Created" || status == "PartiallyFilled" else { throw PluginError.conflict("order is \(status) and cannot be cancelled") }
        let remaining = row["remaining_micro"]?.int64Value ?? 0
        if row["type"]?.stringValue == "sell" && remaining > 0 {
            try LedgerClient(host: host).release(escrow: "order-\(orderID)", to: user.id, remaining * Units.microLTPerMicroKWh, reference: orderID)
        }
        try host.execute("UPDATE market_orders SET status = 'Cancelled', pending_match = 0 WHERE id = ?", [.text(orderID)])
    }

    func find(_ id: String) throws -> OrderJSON? {
        try host.query("SELECT * FROM market_orders WHERE id = ?", [.text(id)]).first.map(Self.orderJSON)
    }

    /// One price level of the public book: how much energy waits there, in how many orders.
    struct Level: Encodable {
        let price: Double
        let kwh: Double
        let orders: Int64
    }

    /// The open book aggregated by side and price, best prices first — public data, nobody's
    /// order or identity in it.
    func depth() throws -> [String: [Level]] {
        let rows = try host.query("""
            SELECT type, price_micro, SUM(remaining_micro) AS remaining, COUNT(*) AS n FROM market_orders
            WHERE status IN \(Self.open) GROUP BY type, price_micro ORDER BY price_micro
            """)
        func levels(_ side: String) -> [Level] {
            rows.filter { $0["type"]?.stringValue == side }.map {
                Level(price: Units.fromMicro($0["price_micro"]?.int64Value ?? 0), kwh: Units.fromMicro($0["remaining"]?.int64Value ?? 0),
                      orders: $0["n"]?.int64Value ?? 0)
            }
        }
        return ["buy": levels("buy").reversed(), "sell": levels("sell")]
    }

    func openOrders() throws -> [OrderJSON] {
        try host.query("SELECT * FROM market_orders WHERE status IN \(Self.open) ORDER BY seq DESC LIMIT 1000").map(Self.orderJSON)
    }

    static func orderJSON(_ row: [String: JSONValue]) -> OrderJSON {
        let remaining = Units.fromMicro(row["remaining_micro"]?.int64Value ?? 0)
        let open = ["Created", "PartiallyFilled"].contains(row["status"]?.stringValue ?? "")
        return OrderJSON(
            id: row["id"]?.stringValue ?? "", user_id: row["user_id"]?.stringValue ?? "", type: row["type"]?.stringValue ?? "",
            kwh_amount: open ? remaining : Units.fromMicro(row["kwh_micro"]?.int64Value ?? 0), remaining_kwh: remaining,
            token_price: Units.fromMicro(row["price_micro"]?.int64Value ?? 0), status: row["status"]?.stringValue ?? "",
            created_at: row["created_at"]?.stringValue ?? "")
    }

    private static func bookOrder(_ row: [String: JSONValue]) -> BookOrder? {
        guard let id = row["id"]?.stringValue, let user = row["user_id"]?.stringValue,
              let side = row["type"]?.stringValue.flatMap(Side.init(rawValue:)), let price = row["price_micro"]?.int64Value,
              let remaining = row["remaining_micro"]?.int64Value, let seq = row["seq"]?.int64Value else { return nil }
        return BookOrder(id: id, userID: user, side: side, price: price, remaining: remaining, sequence: seq)
    }
}

/// The market's bounds against dust and stalls, from `[plugin.config]`: `max_open_orders_per_user`
/// (default 50) and `max_fills_per_request` (default 50; what is left is matched by the tick).
struct OrderLimits: Sendable {
    var maxOpenOrdersPerUser: Int64 = 50
    var maxFillsPerRequest = 50

    init(config: JSONValue) throws {
        if let value = config["max_open_orders_per_user"] {
            guard let count = value.int64Value, count >= 1 else { throw PluginError.badRequest("max_open_orders_per_user must be a positive integer") }
            maxOpenOrdersPerUser = count
        }
        if let value = config["max_fills_per_request"] {
            guard let count = value.int64Value, (1...10_000).contains(count) else { throw PluginError.badRequest("max_fills_per_request must be 1–10000") }
            maxFillsPerRequest = Int(count)
        }
    }
}
