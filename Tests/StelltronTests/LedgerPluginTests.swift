import Foundation
import StelltronHost
import StelltronTesting
import Testing

/// The ledger plugin through the real ABI: services, the books' invariant, the chain, the public
/// routes.
@Suite("ledger plugin")
struct LedgerPluginTests {
    static var library: String { BuildProducts.library("StelltronLedger") }

    private func host() throws -> PluginTestHost { try PluginTestHost(library: Self.library) }

    @discardableResult
    private func call(_ host: PluginTestHost, _ service: String, _ json: String) async throws -> (status: Int32, body: [String: Any], text: String) {
        let answer = try await host.callService(service, json: json)
        return (answer.status, Fixtures.json(answer.body), String(decoding: answer.body, as: UTF8.self))
    }

    private func get(_ host: PluginTestHost, _ path: String, user: AuthenticatedUser? = nil) async throws -> (Int, [String: Any]) {
        let answer = try await host.request("GET", path, user: user)
        return (answer.status, Fixtures.json(answer.body))
    }

    private func balance(_ host: PluginTestHost, _ account: String) async throws -> Int64 {
        let answer = try await call(host, "ledger.balance", #"{"account":"\#(account)"}"#)
        return (answer.body["balance_micro"] as? NSNumber)?.int64Value ?? -1
    }

    @Test func movementsAndTheirHashes() async throws {
        let host = try host()
        let alice = TestWallet().address, bob = TestWallet().address
        let minted = try await call(host, "ledger.mint", #"{"account":"\#(alice)","amount_micro":5000000,"reason":"energy_report","source_device":"rpi-1","quality_factor":1.067,"kwh":0.005}"#)
        #expect(minted.status == 0)
        #expect((minted.body["hash"] as? String)?.count == 64)
        let transferred = try await call(host, "ledger.transfer", #"{"from":"\#(alice)","to":"\#(bob)","amount_micro":1000000}"#)
        #expect(transferred.status == 0, "\(transferred.text)")
        #expect(try await call(host, "ledger.lock", #"{"account":"\#(alice)","escrow":"order-1","amount_micro":3000000}"#).status == 0)
        #expect(try await call(host, "ledger.release", #"{"escrow":"order-1","to":"\#(alice)","amount_micro":1000000}"#).status == 0)
        #expect(try await call(host, "ledger.burn", #"{"account":"escrow:order-1","amount_micro":2000000,"reason":"trade","reference":"t-1"}"#).status == 0)
        #expect(try await balance(host, alice) == 2_000_000)
        #expect(try await balance(host, bob) == 1_000_000)
        #expect(try await balance(host, "escrow:order-1") == 0)

        let supply = try await get(host, "/api/v1/tokens/supply").1
        #expect(supply["total_minted"] as? Double == 5)
        #expect(supply["total_burned"] as? Double == 2)
        #expect(supply["circulating_supply"] as? Double == 3)
        #expect(supply["total_mint_events"] as? Int == 1)
        #expect(supply["token_name"] as? String == "LT (Los Técnicos Energy Token)")
        #expect(supply["ratio"] as? String == "1 kWh = 1000 LT")

        let mints = try await get(host, "/api/v1/ledger/mints").1
        let mint = try #require((mints["mints"] as? [[String: Any]])?.first)
        #expect(mint["tx_hash"] as? String == minted.body["hash"] as? String)
        #expect(mint["source_device"] as? String == "rpi-1")
        #expect(mint["quality_factor"] as? Double == 1.067)
        #expect(mint["amount"] as? Double == 5)
        let burns = try await get(host, "/api/v1/ledger/burns").1
        #expect((burns["burns"] as? [[String: Any]])?.first?["trade_id"] as? String == "t-1")
        #expect(burns["total_burned"] as? Double == 2)
    }

    @Test func refusalsLeaveTheBooksAsTheyWere() async throws {
        let host = try host()
        let alice = TestWallet().address
        try await call(host, "ledger.mint", #"{"account":"\#(alice)","amount_micro":1000,"reason":"x"}"#)
        let cases: [(String, String, String)] = [
            ("ledger.transfer", #"{"from":"\#(alice)","to":"pool","amount_micro":1001}"#, "insufficient LT balance"),
            ("ledger.transfer", #"{"from":"\#(alice)","to":"pool","amount_micro":0}"#, "amount must be positive"),
            ("ledger.transfer", #"{"from":"\#(alice)","to":"pool","amount_micro":-5}"#, "amount must be positive"),
            ("ledger.transfer", #"{"from":"issuance","to":"pool","amount_micro":5}"#, "account 'issuance' cannot be used directly"),
            ("ledger.transfer", #"{"from":"\#(alice)","to":"\#(alice)","amount_micro":5}"#, "debit and credit accounts must differ"),
            ("ledger.mint", #"{"account":"nobody","amount_micro":5,"reason":"x"}"#, "invalid account 'nobody'"),
            ("ledger.mint", #"{"account":"\#(alice)","amount_micro":5,"reason":"x","kind":"burn"}"#, "mint kind must be mint, reward or yield"),
            ("ledger.mint", #"{"account":"\#(alice)","amount_micro":1.5,"reason":"x"}"#, "field 'amount_micro' must be an integer"),
            ("ledger.mint", #"{"account":"\#(alice)","amount_micro":1e30,"reason":"x"}"#, "field 'amount_micro' is out of range"),
            ("ledger.lock", #"{"account":"\#(alice)","escrow":"o","amount_micro":2000}"#, "insufficient LT balance"),
            ("ledger.release", #"{"escrow":"o","to":"\#(alice)","amount_micro":1}"#, "insufficient LT balance"),
            ("ledger.record_carbon", #"{"device_id":"d","owner":"\#(alice)","kwh":1,"co2_saved_kg":-1,"carbon_credit":0}"#, "co2_saved_kg must be a finite number ≥ 0"),
        ]
        for (service, json, message) in cases {
            let answer = try await call(host, service, json)
            #expect(answer.status == 1, "\(service) \(json)")
            #expect(answer.text == message, "\(service) \(json)")
        }
        #expect(try await balance(host, alice) == 1000)
        let verify = try await get(host, "/api/v1/ledger/verify").1
        #expect(verify["valid"] as? Bool == true)
        #expect(verify["entries"] as? Int == 1)
    }

    @Test func theBooksBalanceUnder200ConcurrentRandomOperations() async throws {
        let host = try host()
        let users = (0..<5).map { _ in TestWallet().address }
        for user in users { try await call(host, "ledger.mint", #"{"account":"\#(user)","amount_micro":1000000,"reason":"seed"}"#) }
        let accounts = users + ["pool", "escrow:a", "escrow:b"]
        let statuses = try await withThrowingTaskGroup(of: Int32.self) { group in
            for index in 0..<200 {
                group.addTask {
                    var generator = SystemRandomNumberGenerator()
                    let from = accounts.randomElement(using: &generator)!
                    var to = accounts.randomElement(using: &generator)!
                    if to == from { to = accounts[(accounts.firstIndex(of: from)! + 1) % accounts.count] }
                    let amount = Int64.random(in: 1...400_000, using: &generator)
                    switch index % 4 {
                    case 0: return try await host.callService("ledger.transfer", json: #"{"from":"\#(from)","to":"\#(to)","amount_micro":\#(amount)}"#).status
                    case 1: return try await host.callService("ledger.burn", json: #"{"account":"\#(from)","amount_micro":\#(amount),"reason":"r"}"#).status
                    case 2: return try await host.callService("ledger.mint", json: #"{"account":"\#(to)","amount_micro":\#(amount),"reason":"r"}"#).status
                    default: return try await host.callService("ledger.record_trade", json: #"{"id":"t\#(index)","donor_id":"\#(from)","recipient_id":"\#(to)","kwh_amount":0.5,"token_price":9,"token_amount":4.5,"fee":0.1125}"#).status
                    }
                }
            }
            var statuses: [Int32] = []
            for try await status in group { statuses.append(status) }
            return statuses
        }
        // Every operation either landed or was refused for a lack of funds; nothing in between.
        #expect(statuses.allSatisfy { $0 == 0 || $0 == 1 })
        #expect(statuses.contains(0))
        var total: Int64 = 0
        for account in accounts { total += try await balance(host, account) }
        let supply = try await get(host, "/api/v1/tokens/supply").1
        #expect(Double(total) / 1e6 == supply["circulating_supply"] as? Double)
        let verify = try await get(host, "/api/v1/ledger/verify").1
        #expect(verify["valid"] as? Bool == true)
        #expect(verify["balances_consistent"] as? Bool == true)
        #expect(verify["circulating_supply"] as? Double == supply["circulating_supply"] as? Double)
    }

    @Test func verifyPointsAtAnEditedRow() async throws {
        let host = try host()
        let alice = TestWallet().address
        for _ in 0..<5 { try await call(host, "ledger.mint", #"{"account":"\#(alice)","amount_micro":100,"reason":"x"}"#) }
        let before = try await get(host, "/api/v1/ledger/verify").1
        #expect(before["valid"] as? Bool == true)
        #expect(before["entries"] as? Int == 5)
        try await host.runtime.run("UPDATE ledger_entries SET amount = 1000000 WHERE seq = 3")
        let after = try await get(host, "/api/v1/ledger/verify").1
        #expect(after["valid"] as? Bool == false)
        #expect(after["broken_seq"] as? Int == 3)
        #expect(after["reason"] as? String == "hash does not match the entry's content")
        #expect(after["entries"] as? Int == 2)
    }

    @Test func verifyNoticesBalancesThatDisagreeWithTheJournal() async throws {
        let host = try host()
        let alice = TestWallet().address
        try await call(host, "ledger.mint", #"{"account":"\#(alice)","amount_micro":100,"reason":"x"}"#)
        try await host.runtime.run("UPDATE ledger_accounts SET balance = balance + 1 WHERE id = ?", parameters: [.string(alice)])
        let verify = try await get(host, "/api/v1/ledger/verify").1
        #expect(verify["valid"] as? Bool == false)
        #expect(verify["balances_consistent"] as? Bool == false)
    }

    @Test func listsArePaginatedNewestFirstWithTotalsOverAllRows() async throws {
        let host = try host()
        let alice = TestWallet().address, bob = TestWallet().address
        for index in 1...7 {
            try await call(host, "ledger.record_trade", #"{"id":"t\#(index)","donor_id":"\#(alice)","recipient_id":"\#(bob)","kwh_amount":0.5,"token_price":\#(index),"token_amount":\#(Double(index) / 2),"fee":0.01}"#)
        }
        let (status, page) = try await get(host, "/api/v1/ledger/transactions?limit=3&offset=2")
        #expect(status == 200)
        let trades = try #require(page["transactions"] as? [[String: Any]])
        #expect(trades.map { $0["id"] as? String } == ["t5", "t4", "t3"])
        #expect(page["total_transactions"] as? Int == 7)
        #expect(page["total_energy_traded"] as? Double == 3.5)
        #expect(page["limit"] as? Int == 3 && page["offset"] as? Int == 2)
        #expect((trades.first?["tx_hash"] as? String)?.count == 64)
        #expect(try await call(host, "ledger.record_trade", #"{"id":"t1","donor_id":"\#(alice)","recipient_id":"\#(bob)","kwh_amount":1,"token_price":1,"token_amount":1,"fee":0}"#).status == 5)
        for bad in ["limit=0", "limit=201", "limit=abc", "offset=-1", "limit=1.5"] {
            let (code, body) = try await get(host, "/api/v1/ledger/transactions?\(bad)")
            #expect(code == 400, "\(bad)")
            #expect(body["error"] is String)
        }
        let mine = try await get(host, "/api/v1/analytics/transactions", user: AuthenticatedUser(id: bob, role: "Recipient")).1
        #expect(mine["total_transactions"] as? Int == 7)
        let stranger = try await get(host, "/api/v1/analytics/transactions", user: AuthenticatedUser(id: TestWallet().address, role: "Recipient")).1
        #expect(stranger["total_transactions"] as? Int == 0)
        #expect(try await get(host, "/api/v1/analytics/transactions").0 == 401)
    }

    @Test func emptyStateAnswersAreZeros() async throws {
        let host = try host()
        let overview = try await get(host, "/api/v1/ledger/overview").1
        #expect((overview["tokens"] as? [String: Any])?["circulating_supply"] as? Double == 0)
        #expect((overview["marketplace"] as? [String: Any])?["open_orders"] as? Int == 0)
        #expect((overview["defi"] as? [String: Any])?["total_staked"] as? Int == 0)
        #expect((overview["chain"] as? [String: Any])?["head_hash"] as? String == String(repeating: "0", count: 64))
        for path in ["/api/v1/ledger/mints", "/api/v1/ledger/burns", "/api/v1/ledger/carbon", "/api/v1/ledger/price-history", "/api/v1/ledger/transactions"] {
            let (status, body) = try await get(host, path)
            #expect(status == 200, "\(path)")
            #expect(body["limit"] as? Int == 50, "\(path)")
        }
        let verify = try await get(host, "/api/v1/ledger/verify").1
        #expect(verify["valid"] as? Bool == true && verify["entries"] as? Int == 0)
        let dashboard = try await get(host, "/api/v1/analytics/dashboard").1
        #expect(dashboard["total_energy_traded"] as? Double == 0)
        #expect(try await get(host, "/api/v1/ledger/balance/nobody").0 == 400)
        let balance = try await get(host, "/api/v1/ledger/balance/\(TestWallet().address)").1
        #expect(balance["balance"] as? Double == 0)
    }

    @Test func carbonAndPriceRecordsAreChainedAndTotalled() async throws {
        let host = try host()
        let owner = TestWallet().address
        #expect(try await call(host, "ledger.record_carbon", #"{"device_id":"rpi-1","owner":"\#(owner)","kwh":0.5,"co2_saved_kg":0.41,"carbon_credit":0.0205}"#).status == 0)
        #expect(try await call(host, "ledger.record_price", #"{"price":9.02,"supply":7,"demand":5,"breakdown":{"f_sd":0.927}}"#).status == 0)
        let carbon = try await get(host, "/api/v1/ledger/carbon").1
        #expect(carbon["total_co2_saved_kg"] as? Double == 0.41)
        #expect((carbon["carbon_credits"] as? [[String: Any]])?.first?["device_id"] as? String == "rpi-1")
        let prices = try await get(host, "/api/v1/ledger/price-history").1
        #expect(((prices["prices"] as? [[String: Any]])?.first?["breakdown"] as? [String: Any])?["f_sd"] as? Double == 0.927)
        #expect(try await get(host, "/api/v1/ledger/verify").1["entries"] as? Int == 2)
    }
}
