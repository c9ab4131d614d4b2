import Foundation
import LedgerClient
import LedgerCore
import StelltronPluginKit

/// The services other plugins call. Amounts are integer micro-LT (`amount_micro`); each answer
/// carries the entry hash that becomes the caller's `tx_hash`.
enum LedgerServices {
    static let declarations = [
        PluginManifest.Service("ledger.mint", writes: true, summary: "mint LT from issuance to an account (kind mint, reward or yield)"),
        PluginManifest.Service("ledger.burn", writes: true, summary: "retire LT from an account"),
        PluginManifest.Service("ledger.transfer", writes: true, summary: "move LT between accounts (kind transfer or fee)"),
        PluginManifest.Service("ledger.lock", writes: true, summary: "move LT from an account into escrow:<escrow>"),
        PluginManifest.Service("ledger.release", writes: true, summary: "move LT out of escrow:<escrow> to an account"),
        PluginManifest.Service("ledger.balance", writes: false, summary: "an account's balance"),
        PluginManifest.Service("ledger.verify", writes: true, summary: "verify the journal ({full: true}: from the first entry) and move the checkpoint"),
        PluginManifest.Service("ledger.record_trade", writes: true, summary: "chain a completed trade"),
        PluginManifest.Service("ledger.record_carbon", writes: true, summary: "chain a carbon credit"),
        PluginManifest.Service("ledger.record_price", writes: true, summary: "chain a price calculation"),
        PluginManifest.Service("ledger.stats", writes: false, summary: "supply and trading totals"),
    ]

    static func call(_ name: String, _ request: Data, journal: Journal) throws -> Data {
        switch name {
        case "ledger.verify":
            struct Request: Decodable { var full: Bool? }
            let input = request.isEmpty ? Request() : try JSONCoding.decodeBody(Request.self, from: request)
            return try JSONCoding.encode(try Verification.run(journal.host, full: input.full ?? false, advance: true))
        case "ledger.mint":
            let input = try JSONCoding.decodeBody(LedgerRequest.Mint.self, from: request)
            let kind = input.kind ?? "mint"
            guard ["mint", "reward", "yield"].contains(kind) else { throw PluginError.badRequest("mint kind must be mint, reward or yield") }
            var details: [String: JSONValue] = ["reason": .string(input.reason)]
            if let device = input.source_device { details["source_device"] = .string(device) }
            if let quality = input.quality_factor { details["quality_factor"] = try finite(quality, "quality_factor") }
            if let kwh = input.kwh { details["kwh"] = try finite(kwh, "kwh") }
            let posted = try journal.post(kind: kind, debit: .issuance, credit: try account(input.account), amount: input.amount_micro,
                                          reference: input.reference ?? "", memo: input.memo ?? "", details: details)
            return try JSONCoding.encode(posted)
        case "ledger.burn":
            let input = try JSONCoding.decodeBody(LedgerRequest.Burn.self, from: request)
            let posted = try journal.post(kind: "burn", debit: try account(input.account), credit: .retired, amount: input.amount_micro,
                                          reference: input.reference ?? "", details: ["reason": .string(input.reason)])
            return try JSONCoding.encode(posted)
        case "ledger.transfer":
            let input = try JSONCoding.decodeBody(LedgerRequest.Transfer.self, from: request)
            let kind = input.kind ?? "transfer"
            guard ["transfer", "fee"].contains(kind) else { throw PluginError.badRequest("transfer kind must be transfer or fee") }
            let posted = try journal.post(kind: kind, debit: try account(input.from), credit: try account(input.to),
                                          amount: input.amount_micro, reference: input.reference ?? "", memo: input.memo ?? "")
            return try JSONCoding.encode(posted)
        case "ledger.lock":
            let input = try JSONCoding.decodeBody(LedgerRequest.Lock.self, from: request)
            let posted = try journal.post(kind: "lock", debit: try account(input.account), credit: try account("escrow:" + input.escrow),
                                          amount: input.amount_micro, reference: input.reference ?? input.escrow)
            return try JSONCoding.encode(posted)
        case "ledger.release":
            let input = try JSONCoding.decodeBody(LedgerRequest.Release.self, from: request)
            let posted = try journal.post(kind: "release", debit: try account("escrow:" + input.escrow), credit: try account(input.to),
                                          amount: input.amount_micro, reference: input.reference ?? input.escrow)
            return try JSONCoding.encode(posted)
        case "ledger.balance":
            let input = try JSONCoding.decodeBody(LedgerRequest.Balance.self, from: request)
            let micro = try journal.balance(of: try account(input.account))
            return try JSONCoding.encode(LedgerAnswer.Balance(account: input.account, balance: MicroLT.lt(micro), balance_micro: micro))
        case "ledger.record_trade":
            let trade = try JSONCoding.decodeBody(LedgerRequest.Trade.self, from: request)
            return try JSONCoding.encode(try recordTrade(trade, journal: journal))
        case "ledger.record_carbon":
            let carbon = try JSONCoding.decodeBody(LedgerRequest.Carbon.self, from: request)
            let posted = try journal.record(kind: "carbon", reference: carbon.reference ?? carbon.device_id, details: [
                "device_id": .string(carbon.device_id), "owner": .string(carbon.owner), "kwh": try finite(carbon.kwh, "kwh"),
                "co2_saved_kg": try finite(carbon.co2_saved_kg, "co2_saved_kg"), "carbon_credit": try finite(carbon.carbon_credit, "carbon_credit"),
            ])
            try journal.addToTotal("co2_saved_micro_kg", try micro(carbon.co2_saved_kg, "co2_saved_kg"))
            try journal.addToTotal("carbon_credit_micro", try micro(carbon.carbon_credit, "carbon_credit"))
            return try JSONCoding.encode(posted)
        case "ledger.record_price":
            let price = try JSONCoding.decodeBody(LedgerRequest.Price.self, from: request)
            let posted = try journal.record(kind: "price", reference: "", details: [
                "price": try finite(price.price, "price"), "supply": try finite(price.supply, "supply"),
                "demand": try finite(price.demand, "demand"), "breakdown": price.breakdown ?? .object([:]),
            ])
            return try JSONCoding.encode(posted)
        case "ledger.stats":
            return try JSONCoding.encode(try LedgerStats.load(journal))
        default:
            throw PluginError(.unknownService, "ledger has no service \(name)")
        }
    }

    private static func recordTrade(_ trade: LedgerRequest.Trade, journal: Journal) throws -> Journal.Posted {
        guard !trade.id.isEmpty else { throw PluginError.badRequest("trade id must not be empty") }
        if try !journal.host.query("SELECT seq FROM ledger_trades WHERE trade_id = ?", [.text(trade.id)]).isEmpty {
            throw PluginError.conflict("trade \(trade.id) is already recorded")
        }
        let posted = try journal.record(kind: "trade", reference: trade.id, details: [
            "id": .string(trade.id), "donor_id": .string(trade.donor_id), "recipient_id": .string(trade.recipient_id),
            "kwh_amount": try finite(trade.kwh_amount, "kwh_amount"), "token_price": try finite(trade.token_price, "token_price"),
            "token_amount": try finite(trade.token_amount, "token_amount"), "fee": try finite(trade.fee, "fee"),
            "status": .string(trade.status ?? "Completed"),
        ])
        try journal.host.execute("INSERT INTO ledger_trades (seq, trade_id, donor_id, recipient_id) VALUES (?, ?, ?, ?)",
                                 [.int(posted.seq), .text(trade.id), .text(trade.donor_id), .text(trade.recipient_id)])
        try journal.addToTotal("kwh_traded_micro", try micro(trade.kwh_amount, "kwh_amount"))
        try journal.addToTotal("trade_volume_micro", try micro(trade.token_amount, "token_amount"))
        try journal.addToTotal("trade_fees_micro", try micro(trade.fee, "fee"))
        return posted
    }

    static func account(_ id: String) throws -> Account {
        guard let account = Account(id) else { throw PluginError.badRequest("invalid account '\(id)'") }
        guard account.isCirculating else { throw PluginError.badRequest("account '\(id)' cannot be used directly") }
        return account
    }

    private static func finite(_ value: Double, _ field: String) throws -> JSONValue {
        guard value.isFinite, value >= 0 else { throw PluginError.badRequest("\(field) must be a finite number ≥ 0") }
        return .double(value)
    }

    private static func micro(_ value: Double, _ field: String) throws -> Int64 {
        guard let micro = MicroLT.from(lt: value), micro >= 0 else { throw PluginError.badRequest("\(field) is out of range") }
        return micro
    }
}

/// Supply and trading totals, for the public routes and for other plugins.
struct LedgerStats: Encodable {
    let total_minted: Double
    let total_burned: Double
    let circulating_supply: Double
    let total_mint_events: Int64
    let total_entries: Int64
    let head_hash: String
    let total_trades: Int64
    let total_energy_traded_kwh: Double
    let total_trade_volume: Double
    let total_fees: Double
    let total_co2_saved_kg: Double
    let total_carbon_credits: Double

    static func load(_ journal: Journal) throws -> LedgerStats {
        let host = journal.host
        let minted = try host.query("SELECT COUNT(*) AS n, COALESCE(SUM(amount), 0) AS total FROM ledger_entries WHERE debit_account = 'issuance'").first
        let burned = try host.query("SELECT COALESCE(SUM(amount), 0) AS total FROM ledger_entries WHERE credit_account = 'retired'").first
        let head = try host.query("SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1").first
        let trades = try host.query("SELECT COUNT(*) AS n FROM ledger_trades").first?["n"]?.int64Value ?? 0
        let mintedMicro = minted?["total"]?.int64Value ?? 0
        let burnedMicro = burned?["total"]?.int64Value ?? 0
        return LedgerStats(
            total_minted: MicroLT.lt(mintedMicro), total_burned: MicroLT.lt(burnedMicro),
            circulating_supply: MicroLT.lt(mintedMicro - burnedMicro), total_mint_events: minted?["n"]?.int64Value ?? 0,
            total_entries: head?["seq"]?.int64Value ?? 0, head_hash: head?["hash"]?.stringValue ?? EntryHasher.genesis,
            total_trades: trades, total_energy_traded_kwh: MicroLT.lt(try journal.total("kwh_traded_micro")),
            total_trade_volume: MicroLT.lt(try journal.total("trade_volume_micro")),
            total_fees: MicroLT.lt(try journal.total("trade_fees_micro")),
            total_co2_saved_kg: MicroLT.lt(try journal.total("co2_saved_micro_kg")),
            total_carbon_credits: MicroLT.lt(try journal.total("carbon_credit_micro")))
    }
}
