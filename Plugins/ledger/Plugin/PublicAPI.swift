import Foundation
import LedgerClient
import LedgerCore
import StelltronPluginKit

/// The public transparency routes: every list is newest first, paginated with `limit` (1–200,
/// default 50) and `offset`, with totals over all rows rather than over the page.
enum PublicAPI {
    static let routes = [
        PluginManifest.Route(.get, "/api/v1/ledger/overview", access: .public, mode: .read, summary: "System-wide statistics"),
        PluginManifest.Route(.get, "/api/v1/ledger/transactions", access: .public, mode: .read, summary: "Completed trades with their hashes"),
        PluginManifest.Route(.get, "/api/v1/ledger/mints", access: .public, mode: .read, summary: "Token minting events"),
        PluginManifest.Route(.get, "/api/v1/ledger/burns", access: .public, mode: .read, summary: "Token burn events"),
        PluginManifest.Route(.get, "/api/v1/ledger/carbon", access: .public, mode: .read, summary: "Carbon credit records"),
        PluginManifest.Route(.get, "/api/v1/ledger/price-history", access: .public, mode: .read, summary: "Price calculations with factors"),
        PluginManifest.Route(.get, "/api/v1/ledger/verify", access: .public, mode: .read, summary: "Recompute the hash chain"),
        PluginManifest.Route(.get, "/api/v1/ledger/balance/:wallet", access: .public, mode: .read, summary: "An account's LT balance"),
        PluginManifest.Route(.get, "/api/v1/tokens/supply", access: .public, mode: .read, summary: "LT supply"),
        PluginManifest.Route(.get, "/api/v1/analytics/dashboard", access: .public, mode: .read, summary: "Public market statistics"),
        PluginManifest.Route(.get, "/api/v1/analytics/transactions", access: .protected, mode: .read, summary: "The caller's trades"),
    ]

    struct Page {
        let limit: Int
        let offset: Int

        init(_ query: [String: String]) throws {
            let limitText = query["limit"] ?? "50"
            guard let limit = Int(limitText), (1...200).contains(limit) else {
                throw PluginError.badRequest("limit must be a whole number from 1 to 200")
            }
            let offsetText = query["offset"] ?? "0"
            guard let offset = Int(offsetText), offset >= 0, offset <= 10_000_000 else {
                throw PluginError.badRequest("offset must be a whole number ≥ 0")
            }
            self.limit = limit
            self.offset = offset
        }
    }

    static func handle(_ request: PluginRequest, journal: Journal) throws -> PluginResponse {
        let host = journal.host
        switch request.route {
        case "/api/v1/ledger/overview":
            return try .json(try Overview.load(journal))
        case "/api/v1/tokens/supply":
            let stats = try LedgerStats.load(journal)
            return try .json(Supply(total_minted: stats.total_minted, total_burned: stats.total_burned,
                                    circulating_supply: stats.circulating_supply, total_mint_events: stats.total_mint_events))
        case "/api/v1/ledger/mints":
            let page = try Page(request.query)
            let entries = try list(host, where: "debit_account = 'issuance'", page: page)
            let totals = try host.query("SELECT COUNT(*) AS n, COALESCE(SUM(amount), 0) AS total FROM ledger_entries WHERE debit_account = 'issuance'").first
            return try .json(Listing(items: entries.map(mintJSON), key: "mints", page: page, extra: [
                "total_mints": .int(totals?["n"]?.int64Value ?? 0),
                "total_minted": .double(MicroLT.lt(totals?["total"]?.int64Value ?? 0)),
            ]))
        case "/api/v1/ledger/burns":
            let page = try Page(request.query)
            let entries = try list(host, where: "credit_account = 'retired'", page: page)
            let totals = try host.query("SELECT COUNT(*) AS n, COALESCE(SUM(amount), 0) AS total FROM ledger_entries WHERE credit_account = 'retired'").first
            return try .json(Listing(items: entries.map(burnJSON), key: "burns", page: page, extra: [
                "total_burns": .int(totals?["n"]?.int64Value ?? 0),
                "total_burned": .double(MicroLT.lt(totals?["total"]?.int64Value ?? 0)),
            ]))
        case "/api/v1/ledger/transactions":
            let page = try Page(request.query)
            let entries = try list(host, where: "kind = 'trade'", page: page)
            return try .json(Listing(items: entries.map(recordJSON), key: "transactions", page: page, extra: [
                "total_transactions": .int(try count(host, "kind = 'trade'")),
                "total_energy_traded": .double(MicroLT.lt(try journal.total("kwh_traded_micro"))),
                "total_volume": .double(MicroLT.lt(try journal.total("trade_volume_micro"))),
            ]))
        case "/api/v1/ledger/carbon":
            let page = try Page(request.query)
            let entries = try list(host, where: "kind = 'carbon'", page: page)
            return try .json(Listing(items: entries.map(recordJSON), key: "carbon_credits", page: page, extra: [
                "total_records": .int(try count(host, "kind = 'carbon'")),
                "total_co2_saved_kg": .double(MicroLT.lt(try journal.total("co2_saved_micro_kg"))),
                "total_carbon_credits": .double(MicroLT.lt(try journal.total("carbon_credit_micro"))),
            ]))
        case "/api/v1/ledger/price-history":
            let page = try Page(request.query)
            let entries = try list(host, where: "kind = 'price'", page: page)
            return try .json(Listing(items: entries.map(recordJSON), key: "prices", page: page, extra: [
                "total_records": .int(try count(host, "kind = 'price'")),
            ]))
        case "/api/v1/ledger/verify":
            return try .json(try Verification.run(host))
        case "/api/v1/ledger/balance/:wallet":
            let wallet = request.pathParameters["wallet"] ?? ""
            let account = try LedgerServices.account(wallet)
            let micro = try journal.balance(of: account)
            return try .json(LedgerAnswer.Balance(account: wallet, balance: MicroLT.lt(micro), balance_micro: micro))
        case "/api/v1/analytics/dashboard":
            return try .json(try Dashboard.load(journal))
        case "/api/v1/analytics/transactions":
            let user = try request.requireUser()
            let page = try Page(request.query)
            let rows = try host.query("""
                SELECT e.* FROM ledger_entries e JOIN ledger_trades t ON t.seq = e.seq
                WHERE t.donor_id = ? OR t.recipient_id = ? ORDER BY e.seq DESC LIMIT ? OFFSET ?
                """, [.text(user.id), .text(user.id), .int(Int64(page.limit)), .int(Int64(page.offset))])
            let total = try host.query("SELECT COUNT(*) AS n FROM ledger_trades WHERE donor_id = ? OR recipient_id = ?",
                                       [.text(user.id), .text(user.id)]).first?["n"]?.int64Value ?? 0
            return try .json(Listing(items: rows.map(recordJSON), key: "transactions", page: page, extra: ["total_transactions": .int(total)]))
        default:
            throw PluginError.notFound("no route \(request.route)")
        }
    }

    struct Supply: Encodable {
        let total_minted: Double
        let total_burned: Double
        let circulating_supply: Double
        let total_mint_events: Int64
        let token_name = "LT (Los Técnicos Energy Token)"
        let ratio = "1 kWh = 1000 LT"
    }

    /// A page of items under `key`, with the page bounds and totals.
    struct Listing: Encodable {
        let items: [JSONValue]
        let key: String
        let page: Page
        let extra: [String: JSONValue]

        func encode(to encoder: Encoder) throws {
            var object = extra
            object[key] = .array(items)
            object["limit"] = .int(Int64(page.limit))
            object["offset"] = .int(Int64(page.offset))
            try JSONValue.object(object).encode(to: encoder)
        }
    }

    private static func list(_ host: PluginHost, where condition: String, page: Page) throws -> [[String: JSONValue]] {
        try host.query("SELECT * FROM ledger_entries WHERE \(condition) ORDER BY seq DESC LIMIT ? OFFSET ?",
                       [.int(Int64(page.limit)), .int(Int64(page.offset))])
    }

    private static func count(_ host: PluginHost, _ condition: String) throws -> Int64 {
        try host.query("SELECT COUNT(*) AS n FROM ledger_entries WHERE \(condition)").first?["n"]?.int64Value ?? 0
    }

    private static func details(_ row: [String: JSONValue]) -> [String: JSONValue] {
        guard let text = row["details"]?.stringValue,
              case .object(let object)? = try? JSONCoding.decode(JSONValue.self, from: Data(text.utf8)) else { return [:] }
        return object
    }

    private static func common(_ row: [String: JSONValue]) -> [String: JSONValue] {
        ["tx_hash": row["hash"] ?? .null, "seq": row["seq"] ?? .null, "timestamp": row["created_at"] ?? .null]
    }

    private static func mintJSON(_ row: [String: JSONValue]) -> JSONValue {
        var object = common(row).merging(details(row)) { first, _ in first }
        object["account"] = row["credit_account"]
        object["kind"] = row["kind"]
        object["reference"] = row["reference"]
        object["amount"] = .double(MicroLT.lt(row["amount"]?.int64Value ?? 0))
        object["source_device"] = object["source_device"] ?? .string("")
        object["quality_factor"] = object["quality_factor"] ?? .null
        return .object(object)
    }

    private static func burnJSON(_ row: [String: JSONValue]) -> JSONValue {
        var object = common(row).merging(details(row)) { first, _ in first }
        object["account"] = row["debit_account"]
        object["trade_id"] = row["reference"]
        object["amount"] = .double(MicroLT.lt(row["amount"]?.int64Value ?? 0))
        return .object(object)
    }

    private static func recordJSON(_ row: [String: JSONValue]) -> JSONValue {
        .object(common(row).merging(details(row)) { first, _ in first })
    }
}
