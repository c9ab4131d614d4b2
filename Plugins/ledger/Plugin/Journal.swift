import Foundation
import LedgerCore
import StelltronPluginKit

/// The books: double-entry postings between accounts, each appended to the hash chain, and
/// records (trades, carbon credits, price calculations) chained the same way. Everything runs in
/// the caller's transaction, so a request's postings land together or not at all.
struct Journal {
    let host: PluginHost

    /// Kinds that move LT, and the record kinds that only document.
    static let postingKinds: Set<String> = ["mint", "burn", "transfer", "lock", "release", "yield", "reward", "fee"]
    static let recordKinds: Set<String> = ["trade", "carbon", "price"]

    struct Posted: Encodable {
        let hash: String
        let seq: Int64
    }

    /// Moves `amount` micro-LT from `debit` to `credit`. Only `issuance` may go below zero.
    @discardableResult
    func post(kind: String, debit: Account, credit: Account, amount: Int64, reference: String = "", memo: String = "",
              details: [String: JSONValue] = [:]) throws -> Posted {
        guard Self.postingKinds.contains(kind) else { throw PluginError.badRequest("unknown entry kind \(kind)") }
        guard amount > 0 else { throw PluginError.badRequest("amount must be positive") }
        guard debit != credit else { throw PluginError.badRequest("debit and credit accounts must differ") }
        if debit != .issuance {
            let available = try balance(of: debit)
            guard available >= amount else { throw PluginError.badRequest("insufficient LT balance") }
        }
        try adjust(debit, by: -amount)
        try adjust(credit, by: amount)
        return try append(kind: kind, debit: debit.description, credit: credit.description, amount: amount,
                          reference: reference, memo: memo, details: details)
    }

    /// Chains a record that moves nothing.
    func record(kind: String, reference: String, details: [String: JSONValue]) throws -> Posted {
        guard Self.recordKinds.contains(kind) else { throw PluginError.badRequest("unknown record kind \(kind)") }
        return try append(kind: kind, debit: "", credit: "", amount: 0, reference: reference, memo: "", details: details)
    }

    func balance(of account: Account) throws -> Int64 {
        try host.query("SELECT balance FROM ledger_accounts WHERE id = ?", [.text(account.description)]).first?["balance"]?.int64Value ?? 0
    }

    /// Adds to a running total (kWh traded, CO₂ saved...), kept so totals never need a full scan.
    func addToTotal(_ name: String, _ value: Int64) throws {
        try host.execute(
            "INSERT INTO ledger_totals (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = ledger_totals.value + excluded.value",
            [.text(name), .int(value)])
    }

    func total(_ name: String) throws -> Int64 {
        try host.query("SELECT value FROM ledger_totals WHERE name = ?", [.text(name)]).first?["value"]?.int64Value ?? 0
    }

    private func adjust(_ account: Account, by delta: Int64) throws {
        // A debit of a circulating account only ever lowers an existing, sufficient balance; an
        // upsert would check its negative insert row against the constraint first.
        if delta < 0 && account != .issuance {
            try host.execute("UPDATE ledger_accounts SET balance = balance + ? WHERE id = ?", [.int(delta), .text(account.description)])
            return
        }
        try host.execute(
            "INSERT INTO ledger_accounts (id, balance) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET balance = ledger_accounts.balance + excluded.balance",
            [.text(account.description), .int(delta)])
    }

    private func append(kind: String, debit: String, credit: String, amount: Int64, reference: String, memo: String,
                        details: [String: JSONValue]) throws -> Posted {
        let head = try host.query("SELECT seq, hash FROM ledger_entries ORDER BY seq DESC LIMIT 1").first
        let seq = (head?["seq"]?.int64Value ?? 0) + 1
        let detailsJSON = String(decoding: try JSONCoding.encode(details), as: UTF8.self)
        var entry = JournalEntry(
            seq: seq, kind: kind, debit: debit, credit: credit, amountMicro: amount, reference: reference, memo: memo,
            details: detailsJSON, createdAt: Timestamp.iso8601(host.now()),
            prevHash: head?["hash"]?.stringValue ?? EntryHasher.genesis)
        entry.hash = EntryHasher.hash(entry)
        try host.execute("""
            INSERT INTO ledger_entries (seq, kind, debit_account, credit_account, amount, reference, memo, details, created_at, prev_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.int(seq), .text(kind), .text(debit), .text(credit), .int(amount), .text(reference), .text(memo),
             .text(detailsJSON), .text(entry.createdAt), .text(entry.prevHash), .text(entry.hash)])
        return Posted(hash: entry.hash, seq: seq)
    }
}
