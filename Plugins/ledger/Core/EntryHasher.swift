import CSodium
import Foundation

/// One journal entry as it is hashed. The canonical JSON has sorted keys, no spaces, integers as
/// digits and `details` embedded as stored (itself canonical), so any implementation can recompute
/// `hash = SHA256(prev_hash ‖ canonical JSON)` from the row.
public struct JournalEntry: Equatable, Sendable {
    public var seq: Int64
    public var kind: String
    public var debit: String
    public var credit: String
    public var amountMicro: Int64
    public var reference: String
    public var memo: String
    public var details: String
    public var createdAt: String
    public var prevHash: String
    public var hash: String

    public init(seq: Int64, kind: String, debit: String, credit: String, amountMicro: Int64, reference: String,
                memo: String, details: String, createdAt: String, prevHash: String, hash: String = "") {
        self.seq = seq
        self.kind = kind
        self.debit = debit
        self.credit = credit
        self.amountMicro = amountMicro
        self.reference = reference
        self.memo = memo
        self.details = details
        self.createdAt = createdAt
        self.prevHash = prevHash
        self.hash = hash
    }
}

public enum EntryHasher {
    /// The `prev_hash` of the first entry.
    public static let genesis = String(repeating: "0", count: 64)

    public static func canonicalJSON(_ entry: JournalEntry) -> String {
        "{\"amount\":\(entry.amountMicro),\"created_at\":\(quote(entry.createdAt)),\"credit\":\(quote(entry.credit)),"
            + "\"debit\":\(quote(entry.debit)),\"details\":\(entry.details),\"kind\":\(quote(entry.kind)),"
            + "\"memo\":\(quote(entry.memo)),\"reference\":\(quote(entry.reference)),\"seq\":\(entry.seq)}"
    }

    public static func hash(_ entry: JournalEntry) -> String {
        sha256Hex(Array(entry.prevHash.utf8) + Array(canonicalJSON(entry).utf8))
    }

    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        crypto_hash_sha256(&digest, bytes, UInt64(bytes.count))
        var hex = [CChar](repeating: 0, count: digest.count * 2 + 1)
        _ = sodium_bin2hex(&hex, hex.count, digest, digest.count)
        return String(cString: hex)
    }

    /// A JSON string literal (RFC 8259 escaping).
    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20: out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Walks a chain in order and finds the first entry that does not hold.
public enum ChainVerifier {
    public struct Break: Equatable, Sendable {
        public let seq: Int64
        public let reason: String

        public init(seq: Int64, reason: String) {
            self.seq = seq
            self.reason = reason
        }
    }

    /// Checks `entries` (in seq order) continuing from `previousHash`; returns the first break.
    public static func firstBreak(in entries: [JournalEntry], after previousHash: String = EntryHasher.genesis) -> Break? {
        var expected = previousHash
        for entry in entries {
            if entry.prevHash != expected {
                return Break(seq: entry.seq, reason: "prev_hash does not match the hash of the entry before it")
            }
            if EntryHasher.hash(entry) != entry.hash {
                return Break(seq: entry.seq, reason: "hash does not match the entry's content")
            }
            expected = entry.hash
        }
        return nil
    }
}
