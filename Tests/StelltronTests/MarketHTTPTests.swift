import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import StelltronHost
import StelltronTesting
import Testing

/// The market with the ledger, over real HTTP with real sign-in: orders, matching, reservations,
/// burns, cancellations, pricing and history.
@Suite("market over HTTP")
struct MarketHTTPTests {
    struct Client: Sendable {
        let http: any TestClientProtocol
        let runtime: PluginRuntime

        func signIn(_ wallet: TestWallet) async throws -> String {
            _ = try await http.execute(uri: "/api/v1/auth/signup", method: .post, body: ByteBuffer(string: wallet.proof()))
            let login = try await http.execute(uri: "/api/v1/auth/login", method: .post, body: ByteBuffer(string: wallet.proof()))
            return try #require(Fixtures.json(Data(login.body.readableBytesView))["access_token"] as? String)
        }

        func send(_ method: HTTPRequest.Method, _ uri: String, token: String, body: String? = nil) async throws -> (HTTPResponse.Status, [String: Any], Data) {
            let response = try await http.execute(uri: uri, method: method, headers: [.authorization: "Bearer \(token)"],
                                                  body: body.map { ByteBuffer(string: $0) })
            let data = Data(response.body.readableBytesView)
            return (response.status, Fixtures.json(data), data)
        }

        func mint(_ wallet: TestWallet, lt: Int) async throws {
            let answer = try await runtime.callService("ledger.mint", json: Data(#"{"account":"\#(wallet.address)","amount_micro":\#(lt * 1_000_000),"reason":"test"}"#.utf8))
            #expect(answer.status == 0)
        }

        func balance(_ account: String) async throws -> Double {
            let answer = try await runtime.callService("ledger.balance", json: Data(#"{"account":"\#(account)"}"#.utf8))
            return Fixtures.json(answer.body)["balance"] as? Double ?? -1
        }

        /// The open-order counts the triggers keep, next to a count of the orders themselves.
        func expectOpenCountsMatchTheBook() async throws {
            func counts(_ sql: String) async throws -> [String: Int64] {
                Dictionary(uniqueKeysWithValues: try await runtime.rows(sql).map { ($0["key"]?.stringValue ?? "", $0["n"]?.int64Value ?? -1) })
            }
            let kept = try await counts("SELECT type AS key, n FROM market_open_counts")
            let counted = try await counts("""
                SELECT side AS key, (SELECT COUNT(*) FROM market_orders WHERE type = side AND status IN ('Created', 'PartiallyFilled')) AS n
                FROM (SELECT 'buy' AS side UNION ALL SELECT 'sell') AS sides
                """)
            #expect(kept == counted)
            let perUser = try await counts("SELECT user_id AS key, n FROM market_user_open_counts WHERE n > 0")
            let countedPerUser = try await counts("""
                SELECT user_id AS key, COUNT(*) AS n FROM market_orders WHERE status IN ('Created', 'PartiallyFilled') GROUP BY user_id
                """)
            #expect(perUser == countedPerUser)
        }

        func order(_ token: String, _ type: String, kwh: Double, price: Double) async throws -> (HTTPResponse.Status, [String: Any]) {
            let (status, body, _) = try await send(.post, "/api/v1/market/order/create", token: token,
                                                  body: #"{"type":"\#(type)","kwh_amount":\#(kwh),"token_price":\#(price)}"#)
            return (status, body)
        }
    }

    private func withMarket(over setup: TestingSetup = .router, _ body: @escaping @Sendable (Client) async throws -> Void) async throws {
        let configuration = Fixtures.configuration([
            .init(id: "ledger", library: BuildProducts.library("StelltronLedger")),
            .init(id: "market", library: BuildProducts.library("StelltronMarket")),
        ])
        let runtime = try Fixtures.runtime(configuration)
        try await buildApplication(runtime: runtime, port: 0).test(setup) { http in
            try await body(Client(http: http, runtime: runtime))
        }
    }

    @Test func twoUsersTradeEndToEnd() async throws {
        try await withMarket { client in
            let seller = TestWallet(), buyer = TestWallet()
            let sellerToken = try await client.signIn(seller), buyerToken = try await client.signIn(buyer)
            let events = client.runtime.hub.subscribe()

            // Nothing to reserve yet: refused, and nothing is left behind.
            let (refused, refusal) = try await client.order(sellerToken, "sell", kwh: 0.5, price: 9)
            #expect(refused == .badRequest)
            #expect(refusal["error"] as? String == "insufficient LT balance")
            #expect(try await client.send(.get, "/api/v1/market/orders", token: buyerToken).2 == Data("[]".utf8))

            try await client.mint(seller, lt: 1000)
            let (created, sell) = try await client.order(sellerToken, "sell", kwh: 0.5, price: 9)
            #expect(created == .created)
            #expect(sell["status"] as? String == "Created")
            #expect(sell["user_id"] as? String == seller.address)
            #expect(try await client.balance(seller.address) == 500)
            // A Recipient's first sell makes it a Donor.
            #expect(try await client.send(.get, "/api/v1/auth/me", token: sellerToken).1["role"] as? String == "Donor")

            let (bought, buy) = try await client.order(buyerToken, "buy", kwh: 0.3, price: 10)
            #expect(bought == .created)
            #expect(buy["status"] as? String == "Matched")
            let trade = try #require((buy["trades"] as? [[String: Any]])?.first)
            #expect(trade["token_price"] as? Double == 9)
            #expect(trade["kwh_amount"] as? Double == 0.3)
            #expect(trade["token_amount"] as? Double == 2.7)
            #expect(trade["fee"] as? Double == 0.0675)
            #expect(trade["donor_id"] as? String == seller.address && trade["recipient_id"] as? String == buyer.address)
            #expect((trade["tx_hash"] as? String)?.count == 64)

            let open = try JSONSerialization.jsonObject(with: try await client.send(.get, "/api/v1/market/orders", token: buyerToken).2) as? [[String: Any]]
            #expect(open?.count == 1)
            #expect(open?.first?["status"] as? String == "PartiallyFilled")
            #expect(abs((open?.first?["kwh_amount"] as? Double ?? 0) - 0.2) < 1e-9)

            let history = try JSONSerialization.jsonObject(with: try await client.send(.get, "/api/v1/market/history", token: buyerToken).2) as? [[String: Any]]
            #expect(history?.first?["price"] as? Double == 9)
            #expect((history?.first?["timestamp"] as? String)?.count == 5)

            // 0.3 kWh delivered: 300 LT burned from the seller's escrow.
            let burns = try await client.http.execute(uri: "/api/v1/ledger/burns", method: .get)
            #expect(Fixtures.json(Data(burns.body.readableBytesView))["total_burned"] as? Double == 300)
            let supply = Fixtures.json(Data(try await client.http.execute(uri: "/api/v1/tokens/supply", method: .get).body.readableBytesView))
            #expect(supply["circulating_supply"] as? Double == 700)
            let trades = Fixtures.json(Data(try await client.http.execute(uri: "/api/v1/ledger/transactions", method: .get).body.readableBytesView))
            #expect(trades["total_transactions"] as? Int == 1)

            var types: [String] = []
            for await event in events.events {
                types.append(event.type)
                if event.type == "trade" { break }
            }
            #expect(types.contains("trade"))
            let verify = Fixtures.json(Data(try await client.http.execute(uri: "/api/v1/ledger/verify", method: .get).body.readableBytesView))
            #expect(verify["valid"] as? Bool == true)
        }
    }

    /// Messages a WebSocket client received, shared with the test body.
    final class Inbox: @unchecked Sendable {
        private let lock = NSLock()
        private var messages: [String] = []
        func append(_ message: String) { lock.withLock { messages.append(message) } }
        var all: [String] { lock.withLock { messages } }

        func wait(until predicate: ([String]) -> Bool) async -> [String] {
            for _ in 0..<500 where !predicate(all) { try? await Task.sleep(for: .milliseconds(10)) }
            return all
        }
    }

    @Test func webSocketFeedGreetsThenStreamsTicksAndTrades() async throws {
        try await withMarket(over: .live) { client in
            let seller = TestWallet(), buyer = TestWallet()
            let sellerToken = try await client.signIn(seller), buyerToken = try await client.signIn(buyer)
            try await client.mint(seller, lt: 1000)
            let inbox = Inbox()
            let feed = Task {
                try await client.http.ws("/ws/market") { inbound, _, _ in
                    for try await message in inbound.messages(maxSize: 1 << 16) {
                        guard case .text(let text) = message else { continue }
                        inbox.append(text)
                        if text.contains(#""type":"trade""#) { break }
                    }
                }
            }
            let greeted = await inbox.wait { $0.contains { $0.contains(#""type":"welcome""#) } }
            #expect(greeted.first?.contains("welcome") == true)
            // A resting buy moves the quote (demand 0 → 1): a price tick.
            _ = try await client.order(buyerToken, "buy", kwh: 0.5, price: 1)
            _ = try await client.order(sellerToken, "sell", kwh: 0.5, price: 9)
            _ = try await client.order(buyerToken, "buy", kwh: 0.5, price: 9)
            let received = await inbox.wait { $0.contains { $0.contains(#""type":"trade""#) } }
            feed.cancel()
            let tick = try #require(received.first { $0.contains(#""type":"price_tick""#) })
            #expect((Fixtures.json(Data(tick.utf8))["payload"] as? [String: Any])?["breakdown"] != nil)
            let trade = try #require(received.first { $0.contains(#""type":"trade""#) })
            let payload = try #require(Fixtures.json(Data(trade.utf8))["payload"] as? [String: Any])
            #expect(payload["kwh_amount"] as? Double == 0.5)
            #expect(payload["donor_id"] as? String == seller.address)
        }
    }

    @Test func cancellationRules() async throws {
        try await withMarket { client in
            let seller = TestWallet(), other = TestWallet()
            let sellerToken = try await client.signIn(seller), otherToken = try await client.signIn(other)
            try await client.mint(seller, lt: 100)
            let (_, sell) = try await client.order(sellerToken, "sell", kwh: 0.1, price: 5)
            let id = try #require(sell["id"] as? String)
            #expect(try await client.balance(seller.address) == 0)

            let (forbidden, _, _) = try await client.send(.post, "/api/v1/market/order/cancel", token: otherToken, body: #"{"order_id":"\#(id)"}"#)
            #expect(forbidden == .forbidden)
            let (ok, message, _) = try await client.send(.post, "/api/v1/market/order/cancel", token: sellerToken, body: #"{"order_id":"\#(id)"}"#)
            #expect(ok == .ok)
            #expect(message["message"] as? String == "Order cancelled successfully")
            #expect(try await client.balance(seller.address) == 100)
            let (again, _, _) = try await client.send(.post, "/api/v1/market/order/cancel", token: sellerToken, body: #"{"order_id":"\#(id)"}"#)
            #expect(again == .conflict)
            let (unknown, _, _) = try await client.send(.post, "/api/v1/market/order/cancel", token: sellerToken, body: #"{"order_id":"nope"}"#)
            #expect(unknown == .notFound)
            try await client.expectOpenCountsMatchTheBook()
        }
    }

    @Test func invalidOrdersAreRefused() async throws {
        try await withMarket { client in
            let token = try await client.signIn(TestWallet())
            let bodies = [
                #"{"type":"hold","kwh_amount":1,"token_price":1}"#, #"{"type":"buy","kwh_amount":0,"token_price":1}"#,
                #"{"type":"buy","kwh_amount":1001,"token_price":1}"#, #"{"type":"buy","kwh_amount":1,"token_price":-1}"#,
                #"{"type":"buy","kwh_amount":1,"token_price":1000001}"#, #"{"type":"buy","kwh_amount":"1","token_price":1}"#,
                #"{"type":"buy","kwh_amount":1e999,"token_price":1}"#, #"{"type":"buy","token_price":1}"#, "[]", "",
            ]
            for body in bodies {
                let (status, answer, _) = try await client.send(.post, "/api/v1/market/order/create", token: token, body: body)
                #expect(status == .badRequest, "\(body)")
                #expect(answer["error"] is String, "\(body)")
            }
            #expect(try await client.http.execute(uri: "/api/v1/market/orders", method: .get).status == .unauthorized)
        }
    }

    @Test func noSelfTradeAndPriceTimePriority() async throws {
        try await withMarket { client in
            let a = TestWallet(), b = TestWallet(), c = TestWallet()
            let ta = try await client.signIn(a), tb = try await client.signIn(b), tc = try await client.signIn(c)
            try await client.mint(a, lt: 1000)
            try await client.mint(b, lt: 1000)
            _ = try await client.order(ta, "sell", kwh: 0.2, price: 8)
            _ = try await client.order(tb, "sell", kwh: 0.2, price: 8)
            // A's own buy does not trade with A's sell, but with B's at the same price.
            let (_, own) = try await client.order(ta, "buy", kwh: 0.1, price: 9)
            #expect((own["trades"] as? [[String: Any]])?.map { $0["donor_id"] as? String } == [b.address])
            // C's buy takes A first (earlier at 8), then B.
            let (_, taken) = try await client.order(tc, "buy", kwh: 0.3, price: 8)
            let donors = (taken["trades"] as? [[String: Any]])?.map { $0["donor_id"] as? String }
            #expect(donors == [a.address, b.address])
            #expect(taken["status"] as? String == "Matched")
        }
    }

    /// The console's order book: open energy by side and price level, public, with no order id
    /// and no user in it.
    @Test func depthAggregatesTheOpenBookByPriceLevel() async throws {
        try await withMarket { client in
            let a = TestWallet(), b = TestWallet()
            let ta = try await client.signIn(a), tb = try await client.signIn(b)
            try await client.mint(a, lt: 1000)
            try await client.mint(b, lt: 1000)
            _ = try await client.order(ta, "sell", kwh: 0.2, price: 8)
            _ = try await client.order(tb, "sell", kwh: 0.3, price: 8)
            _ = try await client.order(tb, "sell", kwh: 0.1, price: 9)
            _ = try await client.order(ta, "buy", kwh: 0.4, price: 5)
            let response = try await client.http.execute(uri: "/api/v1/market/depth", method: .get)
            #expect(response.status == .ok)
            let text = String(buffer: response.body)
            #expect(!text.contains(a.address) && !text.contains(b.address))
            let book = Fixtures.json(Data(response.body.readableBytesView))
            let sells = try #require(book["sell"] as? [[String: Any]])
            #expect(sells.map { $0["price"] as? Double } == [8, 9])
            #expect(sells.map { $0["kwh"] as? Double } == [0.5, 0.1])
            #expect(sells.map { $0["orders"] as? Int } == [2, 1])
            let buys = try #require(book["buy"] as? [[String: Any]])
            #expect(buys.map { $0["kwh"] as? Double } == [0.4])
        }
    }

    @Test func priceQuoteAndItsHistory() async throws {
        try await withMarket { client in
            let token = try await client.signIn(TestWallet())
            let (status, quote, _) = try await client.send(.get, "/api/v1/market/price", token: token)
            #expect(status == .ok)
            let breakdown = try #require(quote["breakdown"] as? [String: Any])
            #expect(quote["price"] as? Double == breakdown["final_price"] as? Double)
            #expect(breakdown["base_price"] as? Double == 5)
            #expect(breakdown["f_dist"] as? Double == 1.2)
            #expect(breakdown["f_soc"] as? Double == 1.125)
            #expect(quote["supply"] as? Int == 0 && quote["demand"] as? Int == 0)
            _ = try await client.send(.get, "/api/v1/market/price", token: token)
            func records() async throws -> Int? {
                Fixtures.json(Data(try await client.http.execute(uri: "/api/v1/ledger/price-history", method: .get).body.readableBytesView))["total_records"] as? Int
            }
            // Reading the price records nothing; the market's tick records it, once while it stays.
            for _ in 0..<20 { #expect(try await client.send(.get, "/api/v1/market/price", token: token).0 == .ok) }
            // A read route on a snapshot (through the read-only pricing.current), not the writer's
            // queue: a snapshot refuses writes, so these reads cannot have recorded anything.
            let route = try #require(client.runtime.routes.first { $0.route.path == "/api/v1/market/price" })
            #expect(!route.route.writes)
            let market = try #require(client.runtime.plugins.first { $0.id == "market" })
            try await client.runtime.tick(market)
            try await client.runtime.tick(market)
            #expect(try await records() == 1)
        }
    }

    @Test func parallelBuysNeverOversellOneOrder() async throws {
        try await withMarket { client in
            let seller = TestWallet()
            let sellerToken = try await client.signIn(seller)
            try await client.mint(seller, lt: 1000)
            _ = try await client.order(sellerToken, "sell", kwh: 1.0, price: 5)
            var buyers: [String] = []
            for _ in 0..<8 { buyers.append(try await client.signIn(TestWallet())) }
            let filled = try await withThrowingTaskGroup(of: Double.self) { group in
                for token in buyers {
                    group.addTask {
                        let (_, answer) = try await client.order(token, "buy", kwh: 0.3, price: 6)
                        return (answer["trades"] as? [[String: Any]])?.reduce(0) { $0 + ($1["kwh_amount"] as? Double ?? 0) } ?? 0
                    }
                }
                var total = 0.0
                for try await amount in group { total += amount }
                return total
            }
            #expect(abs(filled - 1.0) < 1e-9)
            try await client.expectOpenCountsMatchTheBook()
            let supply = Fixtures.json(Data(try await client.http.execute(uri: "/api/v1/tokens/supply", method: .get).body.readableBytesView))
            #expect(supply["total_burned"] as? Double == 1000)
            let verify = Fixtures.json(Data(try await client.http.execute(uri: "/api/v1/ledger/verify", method: .get).body.readableBytesView))
            #expect(verify["valid"] as? Bool == true)
        }
    }
}
