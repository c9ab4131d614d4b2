import DefiCore
import Foundation
import LedgerClient
import StelltronPluginKit

/// Staking: LT moves from the caller to `pool` at an APY frozen per position; unstaking (owner
/// only, once) returns the principal from the pool and mints the simple interest as
/// `staking_yield`.
struct Staking {
    let host: PluginHost
    var ledger: LedgerClient { LedgerClient(host: host) }

    struct StakeRequest: Decodable { var user_id: String?; var amount: Double }
    struct UnstakeRequest: Decodable { var stake_id: Int64 }

    func stake(_ body: Data, caller: PluginRequest.Caller) throws -> PluginResponse {
        let input = try JSONCoding.decodeBody(StakeRequest.self, from: body)
        try requireSelf(input.user_id, caller: caller, field: "user_id")
        guard input.amount.isFinite, input.amount > 0, input.amount <= 1_000_000_000 else {
            throw PluginError.badRequest("amount must be a number greater than 0 and at most 1e9")
        }
        let amount = Int64((input.amount * 1_000_000).rounded())
        guard amount > 0 else { throw PluginError.badRequest("amount is below one micro-LT") }
        let apy = PoolRules.apy(totalActiveMicro: try totalActive())
        let now = nowMs(host)
        let id = try host.nextValue(of: "id", in: "defi_stakes")
        _ = try ledger.transfer(from: caller.id, to: "pool", amount, reference: "stake-\(id)")
        try host.execute("INSERT INTO defi_stakes (id, user_id, amount_micro, apy, status, staked_ms) VALUES (?, ?, ?, ?, 'active', ?)",
                         [.int(id), .text(caller.id), .int(amount), .double(apy), .int(now)])
        let position: [String: JSONValue] = ["stake_id": .int(id), "user_id": .string(caller.id), "amount": .double(lt(amount)),
                                             "apy": .double(apy), "status": "active", "staked_at": .string(iso(now))]
        try host.emit("defi_stake", position)
        return try .json(position, status: 201)
    }

    func unstake(_ body: Data, caller: PluginRequest.Caller) throws -> PluginResponse {
        let input = try JSONCoding.decodeBody(UnstakeRequest.self, from: body)
        guard let row = try host.query("SELECT * FROM defi_stakes WHERE id = ?", [.int(input.stake_id)]).first else {
            throw PluginError.notFound("stake not found")
        }
        guard row["user_id"]?.stringValue == caller.id else { throw PluginError.forbidden("only the owner can unstake a position") }
        guard row["status"]?.stringValue == "active" else { throw PluginError.conflict("stake \(input.stake_id) was already withdrawn") }
        let amount = row["amount_micro"]?.int64Value ?? 0, apy = row["apy"]?.doubleValue ?? 0
        let now = nowMs(host)
        let seconds = Double(now - (row["staked_ms"]?.int64Value ?? now)) / 1000
        let interest = PoolRules.interestMicro(amountMicro: amount, apy: apy, seconds: seconds)
        guard try ledger.balance(of: "pool") >= amount else {
            throw PluginError.conflict("the pool's liquidity is lent out; unstake after the open loans are repaid or liquidated")
        }
        var hash = try ledger.transfer(from: "pool", to: caller.id, amount, reference: "unstake-\(input.stake_id)")
        if interest > 0 {
            hash = try ledger.mint(to: caller.id, interest, kind: "yield", reason: "staking_yield", reference: "stake-\(input.stake_id)")
        }
        try host.execute("UPDATE defi_stakes SET status = 'withdrawn', withdrawn_ms = ? WHERE id = ?", [.int(now), .int(input.stake_id)])
        try host.execute("""
            INSERT INTO defi_yields (user_id, stake_id, principal_micro, yield_micro, apy, hours, tx_hash, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(caller.id), .int(input.stake_id), .int(amount), .int(interest), .double(apy), .double(seconds / 3600), .text(hash), .int(now)])
        let answer: [String: JSONValue] = ["stake_id": .int(input.stake_id), "principal": .double(lt(amount)), "yield": .double(lt(interest)),
                                           "total": .double(lt(amount + interest)), "apy": .double(apy), "status": "withdrawn", "tx_hash": .string(hash)]
        try host.emit("defi_stake", answer)
        return try .json(answer)
    }

    func totalActive() throws -> Int64 {
        try host.query("SELECT COALESCE(SUM(amount_micro), 0) AS total FROM defi_stakes WHERE status = 'active'").first?["total"]?.int64Value ?? 0
    }

    func yieldHistory(_ caller: PluginRequest.Caller) throws -> PluginResponse {
        let rows = try host.query("SELECT * FROM defi_yields WHERE user_id = ? ORDER BY id DESC LIMIT 200", [.text(caller.id)])
        return try .json(rows.map { row -> [String: JSONValue] in
            ["id": row["id"] ?? .null, "stake_id": row["stake_id"] ?? .null, "principal": .double(lt(row["principal_micro"]?.int64Value ?? 0)),
             "yield": .double(lt(row["yield_micro"]?.int64Value ?? 0)), "apy": row["apy"] ?? .null, "hours": row["hours"] ?? .null,
             "tx_hash": row["tx_hash"] ?? .null, "timestamp": .string(iso(row["created_ms"]?.int64Value ?? 0))]
        })
    }
}

/// A body's `user_id`/`borrower_id`, when sent, must be the caller (identity never comes from bodies).
func requireSelf(_ claimed: String?, caller: PluginRequest.Caller, field: String) throws {
    if let claimed, claimed != caller.id { throw PluginError.forbidden("\(field) must be the signed-in user") }
}
