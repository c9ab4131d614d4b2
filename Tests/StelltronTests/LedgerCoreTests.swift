import Foundation
import LedgerCore
import Testing

/// The ledger's pure parts: amounts, accounts, the canonical entry form and the chain check.
@Suite("ledger core")
struct LedgerCoreTests {
    static let alice = "GAPQBMULFBVGBMYHLOSAZNBUH2ESIFEXWJ32H7DBWTSGD4MS2QZZWU5F"

    static func entry(seq: Int64 = 1, prev: String = EntryHasher.genesis) -> JournalEntry {
        JournalEntry(seq: seq, kind: "mint", debit: "issuance", credit: alice, amountMicro: 533_300_000, reference: "report-1",
                     memo: "", details: #"{"quality_factor":1.067,"reason":"energy_report","source_device":"rpi-4b-prod-01"}"#,
                     createdAt: "2026-02-23T09:56:48Z", prevHash: prev)
    }

    @Test func hashMatchesAnIndependentImplementation() {
        // Python: sha256(("0"*64 + json.dumps(entry, sort_keys=True, separators=(",", ":"))).encode())
        #expect(EntryHasher.canonicalJSON(Self.entry()) == #"{"amount":533300000,"created_at":"2026-02-23T09:56:48Z","credit":"GAPQBMULFBVGBMYHLOSAZNBUH2ESIFEXWJ32H7DBWTSGD4MS2QZZWU5F","debit":"issuance","details":{"quality_factor":1.067,"reason":"energy_report","source_device":"rpi-4b-prod-01"},"kind":"mint","memo":"","reference":"report-1","seq":1}"#)
        #expect(EntryHasher.hash(Self.entry()) == "1fa993f0932f6b26f1c2fa7288d7dec7bce869042c5cf6a92d2a4982645178ae")
    }

    @Test func chainCheckFindsTheFirstBrokenEntry() {
        var entries: [JournalEntry] = []
        var previous = EntryHasher.genesis
        for seq in 1...5 {
            var entry = Self.entry(seq: Int64(seq), prev: previous)
            entry.hash = EntryHasher.hash(entry)
            previous = entry.hash
            entries.append(entry)
        }
        #expect(ChainVerifier.firstBreak(in: entries) == nil)
        var edited = entries
        edited[2].amountMicro += 1
        #expect(ChainVerifier.firstBreak(in: edited) == .init(seq: 3, reason: "hash does not match the entry's content"))
        var removed = entries
        removed.remove(at: 1)
        #expect(ChainVerifier.firstBreak(in: removed)?.seq == 3)
        var rehashed = edited
        rehashed[2].hash = EntryHasher.hash(rehashed[2])
        // Re-hashing the edited entry only moves the break to its successor.
        #expect(ChainVerifier.firstBreak(in: rehashed) == .init(seq: 4, reason: "prev_hash does not match the hash of the entry before it"))
    }

    @Test func amountsAndAccounts() {
        #expect(MicroLT.from(lt: 533.3) == 533_300_000)
        #expect(MicroLT.from(lt: .nan) == nil)
        #expect(MicroLT.from(lt: .infinity) == nil)
        #expect(MicroLT.lt(1_500_000) == 1.5)
        #expect(Account("pool") == .pool)
        #expect(Account("escrow:order-1") == .escrow("order-1"))
        #expect(Account(Self.alice) == .user(Self.alice))
        #expect(Account("escrow:") == nil)
        #expect(Account("escrow:a b") == nil)
        #expect(Account("bob") == nil)
        #expect(Account(Self.alice.lowercased()) == nil)
        #expect(Account("issuance")?.isCirculating == false)
        #expect(Account("escrow:x")?.isCirculating == true)
    }
}
