import DefiCore
import Foundation
import LedgerClient
import StelltronPluginKit

/// Flash loans: up to 50 kWh worth of LT from the pool, at most 80 % of what the pool holds,
/// against collateral of at least 1.5× locked in escrow, for 300 s at a 0.3 % fee. Repaid (by
/// the borrower, once, in time) the pool gets tokens + fee back and the collateral is released;
/// overdue, the collateral goes to the pool (the periodic sweep).
struct FlashLoans {
    let host: PluginHost
    var ledger: LedgerClient { LedgerClient(host: host) }

    struct LoanRequest: Decodable { var borrower_id: String?; var kwh_borrowed: Double; var token_collateral: Double }
    struct RepayRequest: Decodable { var loan_id: Int64 }

    func borrow(_ body: Data, caller: PluginRequest.Caller) throws -> PluginResponse {
        let input = try JSONCoding.decodeBody(LoanRequest.self, from: body)
        try requireSelf(input.borrower_id, caller: caller, field: "borrower_id")
        guard input.token_collateral.isFinite, input.token_collateral > 0, input.token_collateral <= 1e12 else {
            throw PluginError.badRequest("token_collateral must be a positive number")
        }
        let collateral = Int64((input.token_collateral * 1_000_000).rounded())
        let tokens: Int64
        do {
            tokens = try PoolRules.checkLoan(kwh: input.kwh_borrowed, collateralMicro: collateral, poolAvailableMicro: try ledger.balance(of: "pool"))
        } catch PoolRules.LoanProblem.amount {
            throw PluginError.badRequest("kwh_borrowed must be greater than 0 and at most \(Int(PoolRules.maxLoanKWh))")
        } catch PoolRules.LoanProblem.liquidity(let available) {
            throw PluginError.badRequest(String(format: "the pool can lend at most %.6f LT now (80%% of %.6f)", lt(available) * 0.8, lt(available)))
        } catch PoolRules.LoanProblem.collateral(let required) {
            throw PluginError.badRequest(String(format: "token_collateral must be at least %.6f LT (1.5× the loan)", lt(required)))
        }
        let now = nowMs(host)
        let id = try host.nextValue(of: "id", in: "defi_loans")
        let fee = PoolRules.feeMicro(tokensMicro: tokens)
        let due = now + Int64(PoolRules.loanSeconds * 1000)
        try ledger.lock(caller.id, escrow: "loan-\(id)", collateral)
        _ = try ledger.transfer(from: "pool", to: caller.id, tokens, reference: "loan-\(id)")
        try host.execute("""
            INSERT INTO defi_loans (id, borrower_id, kwh, tokens_micro, collateral_micro, fee_micro, status, created_ms, due_ms)
            VALUES (?, ?, ?, ?, ?, ?, 'active', ?, ?)
            """, [.int(id), .text(caller.id), .double(input.kwh_borrowed), .int(tokens), .int(collateral), .int(fee), .int(now), .int(due)])
        let loan = json(id: id, borrower: caller.id, kwh: input.kwh_borrowed, tokens: tokens, collateral: collateral, fee: fee, due: due, status: "active")
        try host.emit("flash_loan", loan)
        return try .json(loan, status: 201)
    }

    func repay(_ body: Data, caller: PluginRequest.Caller) throws -> PluginResponse {
        let input = try JSONCoding.decodeBody(RepayRequest.self, from: body)
        guard let row = try host.query("SELECT * FROM defi_loans WHERE id = ?", [.int(input.loan_id)]).first else {
            throw PluginError.notFound("loan not found")
        }
        guard row["borrower_id"]?.stringValue == caller.id else { throw PluginError.forbidden("only the borrower can repay a loan") }
        guard row["status"]?.stringValue == "active" else {
            throw PluginError.conflict("loan \(input.loan_id) is \(row["status"]?.stringValue ?? "closed")")
        }
        let now = nowMs(host)
        guard now <= row["due_ms"]?.int64Value ?? 0 else { throw PluginError.conflict("loan \(input.loan_id) is overdue and is being liquidated") }
        let tokens = row["tokens_micro"]?.int64Value ?? 0, fee = row["fee_micro"]?.int64Value ?? 0
        let collateral = row["collateral_micro"]?.int64Value ?? 0
        _ = try ledger.transfer(from: caller.id, to: "pool", tokens, reference: "loan-\(input.loan_id)")
        _ = try ledger.transfer(from: caller.id, to: "pool", fee, kind: "fee", reference: "loan-\(input.loan_id)")
        try ledger.release(escrow: "loan-\(input.loan_id)", to: caller.id, collateral)
        try host.execute("UPDATE defi_loans SET status = 'repaid', settled_ms = ? WHERE id = ?", [.int(now), .int(input.loan_id)])
        let loan = json(id: input.loan_id, borrower: caller.id, kwh: row["kwh"]?.doubleValue ?? 0, tokens: tokens, collateral: collateral,
                        fee: fee, due: row["due_ms"]?.int64Value ?? 0, status: "repaid")
        try host.emit("flash_loan", loan)
        return try .json(loan)
    }

    /// The periodic sweep: every overdue loan's collateral goes to the pool.
    func liquidateOverdue() throws {
        let now = nowMs(host)
        for row in try host.query("SELECT * FROM defi_loans WHERE status = 'active' AND due_ms < ? ORDER BY id LIMIT 500", [.int(now)]) {
            guard let id = row["id"]?.int64Value, let collateral = row["collateral_micro"]?.int64Value else { continue }
            try ledger.release(escrow: "loan-\(id)", to: "pool", collateral)
            try host.execute("UPDATE defi_loans SET status = 'liquidated', settled_ms = ? WHERE id = ?", [.int(now), .int(id)])
            try host.emit("flash_loan", json(id: id, borrower: row["borrower_id"]?.stringValue ?? "", kwh: row["kwh"]?.doubleValue ?? 0,
                                             tokens: row["tokens_micro"]?.int64Value ?? 0, collateral: collateral,
                                             fee: row["fee_micro"]?.int64Value ?? 0, due: row["due_ms"]?.int64Value ?? 0, status: "liquidated"))
        }
    }

    func outstanding() throws -> Int64 {
        try host.query("SELECT COALESCE(SUM(tokens_micro), 0) AS total FROM defi_loans WHERE status = 'active'").first?["total"]?.int64Value ?? 0
    }

    private func json(id: Int64, borrower: String, kwh: Double, tokens: Int64, collateral: Int64, fee: Int64, due: Int64, status: String) -> [String: JSONValue] {
        ["loan_id": .int(id), "borrower_id": .string(borrower), "kwh_borrowed": .double(kwh), "tokens_borrowed": .double(lt(tokens)),
         "collateral": .double(lt(collateral)), "fee": .double(lt(fee)), "due_at": .string(iso(due)), "status": .string(status)]
    }
}
