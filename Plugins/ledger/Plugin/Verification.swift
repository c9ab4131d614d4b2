import Foundation
import LedgerCore
import StelltronPluginKit

/// `GET /api/v1/ledger/verify`: recomputes every entry's hash from its columns, and checks that
/// the stored balances are what the entries add up to and that the books balance.
///
/// The public route starts from the checkpoint (the last verified prefix: its head hash and the
/// balances it added up to), so its cost follows the entries since then, not the whole journal;
/// the ledger's tick moves the checkpoint forward every 10 s, by at most `verify_entries_per_tick`
/// entries (plugin config, default 20 000) so that a long journal never holds the writer for long. `ledger.verify {"full": true}`
/// (`stelltron call`, `stelltron ledger verify`) re-checks everything from the first entry.
struct Verification: Encodable {
    var valid: Bool
    var entries: Int64
    var head_hash: String
    var broken_seq: Int64?
    var reason: String?
    var balances_consistent: Bool
    var circulating_supply: Double
    /// The entries re-hashed by this run began after this seq (0: from the first entry).
    var checked_from_seq: Int64

    static let batch = 2_000

    /// The verified prefix: up to `seq`, whose hash is `hash`, adding up to `balances`.
    struct Checkpoint: Codable {
        var seq: Int64
        var hash: String
        var balances: [String: Int64]
    }

    /// The stored checkpoint, if its entry still carries the hash it recorded.
    static func checkpoint(_ host: PluginHost) throws -> Checkpoint? {
        guard let row = try host.query("SELECT seq, hash, balances FROM ledger_checkpoint WHERE id = 1").first,
              let seq = row["seq"]?.int64Value, let hash = row["hash"]?.stringValue, let text = row["balances"]?.stringValue,
              let balances = try? JSONCoding.decode([String: Int64].self, from: Data(text.utf8)) else { return nil }
        let stored = try host.query("SELECT hash FROM ledger_entries WHERE seq = ?", [.int(seq)]).first?["hash"]?.stringValue
        return stored == hash ? Checkpoint(seq: seq, hash: hash, balances: balances) : nil
    }

    /// Verifies from the stored checkpoint (or from the start) and, when asked and valid, records
    /// the new one (a write: the tick and the operator service only).
    static func run(_ host: PluginHost, full: Bool = false, advance: Bool = false) throws -> Verification {
        let (result, reached) = try run(host, from: full ? nil : try checkpoint(host), maxEntries: nil)
        if advance, let reached { try save(reached, host: host) }
        // Without a bound the run always reaches the head, so it always has a verdict.
        return result!
    }

    /// The tick's step: re-hashes at most `maxEntries` entries after the checkpoint and moves it
    /// to the last good one. Answers the verdict when it reached the head, nil before.
    static func advanceCheckpoint(_ host: PluginHost, maxEntries: Int64) throws -> Verification? {
        let (result, reached) = try run(host, from: try checkpoint(host), maxEntries: maxEntries)
        if let reached { try save(reached, host: host) }
        return result
    }

    private static func save(_ reached: Checkpoint, host: PluginHost) throws {
        try host.execute("""
            INSERT INTO ledger_checkpoint (id, seq, hash, balances, checked_at) VALUES (1, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, balances = excluded.balances, checked_at = excluded.checked_at
            """, [.int(reached.seq), .text(reached.hash), .text(String(decoding: try JSONCoding.encode(reached.balances), as: UTF8.self)),
                  .text(Timestamp.iso8601(host.now()))])
    }

    /// Re-hashes from `start`: answers the verdict (nil when `maxEntries` stopped it before the
    /// head) and the new checkpoint (nil when the chain is broken: nothing after a break is trusted).
    private static func run(_ host: PluginHost, from start: Checkpoint?, maxEntries: Int64?) throws -> (Verification?, Checkpoint?) {
        var previous = start?.hash ?? EntryHasher.genesis
        var checked: Int64 = start?.seq ?? 0
        var lastSeq: Int64 = start?.seq ?? 0
        var computed: [String: Int64] = start?.balances ?? [:]
        let from = lastSeq
        while true {
            var size = Int64(batch)
            if let maxEntries {
                size = min(size, maxEntries - (checked - from))
                if size <= 0 { return (nil, Checkpoint(seq: lastSeq, hash: previous, balances: computed)) }
            }
            let rows = try host.query("SELECT * FROM ledger_entries WHERE seq > ? ORDER BY seq LIMIT ?", [.int(lastSeq), .int(size)])
            if rows.isEmpty { break }
            let entries = rows.map(entry)
            if let broken = ChainVerifier.firstBreak(in: entries, after: previous) {
                return (Verification(valid: false, entries: checked + Int64(entries.firstIndex { $0.seq == broken.seq } ?? 0),
                                     head_hash: previous, broken_seq: broken.seq, reason: broken.reason,
                                     balances_consistent: false, circulating_supply: 0, checked_from_seq: from), nil)
            }
            for entry in entries where entry.amountMicro > 0 {
                computed[entry.debit, default: 0] -= entry.amountMicro
                computed[entry.credit, default: 0] += entry.amountMicro
            }
            previous = entries.last!.hash
            lastSeq = entries.last!.seq
            checked += Int64(entries.count)
        }
        var stored: [String: Int64] = [:]
        for row in try host.query("SELECT id, balance FROM ledger_accounts") {
            if let id = row["id"]?.stringValue, let balance = row["balance"]?.int64Value, balance != 0 { stored[id] = balance }
        }
        computed = computed.filter { $0.value != 0 }
        let circulating = computed.filter { Account($0.key)?.isCirculating == true }.values.reduce(0, +)
        let minted = -(computed["issuance"] ?? 0), burned = computed["retired"] ?? 0
        let consistent = stored == computed && circulating == minted - burned && computed.allSatisfy { $0.key == "issuance" || $0.value >= 0 }
        let result = Verification(valid: consistent, entries: checked, head_hash: previous, broken_seq: nil,
                                  reason: consistent ? nil : "stored balances differ from the journal",
                                  balances_consistent: consistent, circulating_supply: MicroLT.lt(circulating), checked_from_seq: from)
        return (result, Checkpoint(seq: lastSeq, hash: previous, balances: computed))
    }

    private static func entry(_ row: [String: JSONValue]) -> JournalEntry {
        JournalEntry(
            seq: row["seq"]?.int64Value ?? -1, kind: row["kind"]?.stringValue ?? "",
            debit: row["debit_account"]?.stringValue ?? "", credit: row["credit_account"]?.stringValue ?? "",
            amountMicro: row["amount"]?.int64Value ?? -1, reference: row["reference"]?.stringValue ?? "",
            memo: row["memo"]?.stringValue ?? "", details: row["details"]?.stringValue ?? "",
            createdAt: row["created_at"]?.stringValue ?? "", prevHash: row["prev_hash"]?.stringValue ?? "",
            hash: row["hash"]?.stringValue ?? "")
    }
}
