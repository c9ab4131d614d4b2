import LedgerCore
import StelltronPluginKit

/// `GET /api/v1/ledger/verify`: recomputes every entry's hash from its columns, and checks that
/// the stored balances are what the entries add up to and that the books balance.
struct Verification: Encodable {
    var valid: Bool
    var entries: Int64
    var head_hash: String
    var broken_seq: Int64?
    var reason: String?
    var balances_consistent: Bool
    var circulating_supply: Double

    static let batch = 2_000

    static func run(_ host: PluginHost) throws -> Verification {
        var previous = EntryHasher.genesis
        var checked: Int64 = 0
        var lastSeq: Int64 = 0
        var computed: [String: Int64] = [:]
        while true {
            let rows = try host.query("SELECT * FROM ledger_entries WHERE seq > ? ORDER BY seq LIMIT ?", [.int(lastSeq), .int(Int64(batch))])
            if rows.isEmpty { break }
            let entries = rows.map(entry)
            if let broken = ChainVerifier.firstBreak(in: entries, after: previous) {
                return Verification(valid: false, entries: checked + Int64(entries.firstIndex { $0.seq == broken.seq } ?? 0),
                                    head_hash: previous, broken_seq: broken.seq, reason: broken.reason,
                                    balances_consistent: false, circulating_supply: 0)
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
        return Verification(valid: consistent, entries: checked, head_hash: previous, broken_seq: nil,
                            reason: consistent ? nil : "stored balances differ from the journal",
                            balances_consistent: consistent, circulating_supply: MicroLT.lt(circulating))
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
