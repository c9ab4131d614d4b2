/// A continuous double auction with price-time priority (behaviour §5). Prices are integer
/// micro-units per kWh and quantities integer micro-kWh, so matching is exact.
public enum Side: String, Sendable, Codable {
    case buy, sell
}

public struct BookOrder: Sendable, Equatable {
    public var id: String
    public var userID: String
    public var side: Side
    public var price: Int64
    public var remaining: Int64
    /// Arrival order: earlier wins at equal price.
    public var sequence: Int64

    public init(id: String, userID: String, side: Side, price: Int64, remaining: Int64, sequence: Int64) {
        self.id = id
        self.userID = userID
        self.side = side
        self.price = price
        self.remaining = remaining
        self.sequence = sequence
    }
}

public struct Fill: Sendable, Equatable {
    /// The resting order, whose price the trade executes at.
    public var makerID: String
    public var takerID: String
    public var buyOrderID: String
    public var sellOrderID: String
    public var buyerID: String
    public var sellerID: String
    public var price: Int64
    public var quantity: Int64
}

public enum MatchingEngine {
    /// Whether a resting order is a counterpart `incoming` may trade with: the other side, a
    /// crossing price, another user.
    public static func crosses(_ incoming: BookOrder, _ resting: BookOrder) -> Bool {
        guard resting.side != incoming.side, resting.userID != incoming.userID, resting.remaining > 0 else { return false }
        return incoming.side == .buy ? incoming.price >= resting.price : incoming.price <= resting.price
    }

    /// True when `a` has priority over `b` on the same side: better price, then earlier.
    public static func hasPriority(_ a: BookOrder, over b: BookOrder) -> Bool {
        if a.price != b.price { return a.side == .sell ? a.price < b.price : a.price > b.price }
        return a.sequence < b.sequence
    }

    /// Matches `incoming` against `resting` (any order, any side) and returns the fills in
    /// execution order and what is left of `incoming`. Each fill executes at the resting price.
    public static func match(_ incoming: BookOrder, against resting: [BookOrder]) -> (fills: [Fill], remaining: Int64) {
        let candidates = resting.filter { crosses(incoming, $0) }.sorted { hasPriority($0, over: $1) }
        var remaining = incoming.remaining
        var fills: [Fill] = []
        for maker in candidates where remaining > 0 {
            let quantity = min(remaining, maker.remaining)
            let (buy, sell) = incoming.side == .buy ? (incoming, maker) : (maker, incoming)
            fills.append(Fill(makerID: maker.id, takerID: incoming.id, buyOrderID: buy.id, sellOrderID: sell.id,
                              buyerID: buy.userID, sellerID: sell.userID, price: maker.price, quantity: quantity))
            remaining -= quantity
        }
        return (fills, remaining)
    }
}

/// An in-memory book for property tests and the benchmark: both sides kept in priority order.
public struct OrderBook: Sendable {
    public private(set) var buys: [BookOrder] = []
    public private(set) var sells: [BookOrder] = []

    public init() {}

    /// Submits an order: matches it, reduces or removes the makers, rests what is left.
    public mutating func submit(_ order: BookOrder) -> [Fill] {
        var fills: [Fill] = []
        let remaining = order.side == .buy
            ? Self.consume(&sells, by: order, fills: &fills)
            : Self.consume(&buys, by: order, fills: &fills)
        if remaining > 0 {
            var rest = order
            rest.remaining = remaining
            insert(rest)
        }
        return fills
    }

    /// Fills `taker` from the opposite side, best first, in place; returns what is left of it.
    private static func consume(_ opposite: inout [BookOrder], by taker: BookOrder, fills: inout [Fill]) -> Int64 {
        var remaining = taker.remaining
        var index = 0
        while remaining > 0 && index < opposite.count {
            // The side is sorted by priority: once a price no longer crosses, nothing after does.
            let maker = opposite[index]
            guard taker.side == .buy ? taker.price >= maker.price : taker.price <= maker.price else { break }
            if maker.userID == taker.userID {
                index += 1
                continue
            }
            let quantity = min(remaining, maker.remaining)
            let (buy, sell) = taker.side == .buy ? (taker, maker) : (maker, taker)
            fills.append(Fill(makerID: maker.id, takerID: taker.id, buyOrderID: buy.id, sellOrderID: sell.id,
                              buyerID: buy.userID, sellerID: sell.userID, price: maker.price, quantity: quantity))
            remaining -= quantity
            if maker.remaining == quantity {
                opposite.remove(at: index)
            } else {
                opposite[index].remaining -= quantity
            }
        }
        return remaining
    }

    private mutating func insert(_ order: BookOrder) {
        if order.side == .buy {
            let index = buys.firstIndex { MatchingEngine.hasPriority(order, over: $0) } ?? buys.count
            buys.insert(order, at: index)
        } else {
            let index = sells.firstIndex { MatchingEngine.hasPriority(order, over: $0) } ?? sells.count
            sells.insert(order, at: index)
        }
    }
}
