import Foundation
import StelltronPluginKit

/// The ledger services the pool uses, with micro-LT amounts.
struct Ledger {
    let host: PluginHost

    struct Posted: Decodable { let hash: String }
    struct Balance: Decodable { let balance_micro: Int64 }

    func transfer(from: String, to: String, _ amount: Int64, kind: String = "transfer", reference: String) throws -> String {
        struct Request: Encodable { let from: String; let to: String; let amount_micro: Int64; let kind: String; let reference: String }
        return try host.call("ledger.transfer", Request(from: from, to: to, amount_micro: amount, kind: kind, reference: reference), as: Posted.self).hash
    }

    func lock(_ account: String, escrow: String, _ amount: Int64) throws {
        struct Request: Encodable { let account: String; let escrow: String; let amount_micro: Int64 }
        _ = try host.call("ledger.lock", Request(account: account, escrow: escrow, amount_micro: amount), as: Posted.self)
    }

    func release(escrow: String, to: String, _ amount: Int64) throws {
        struct Request: Encodable { let escrow: String; let to: String; let amount_micro: Int64 }
        _ = try host.call("ledger.release", Request(escrow: escrow, to: to, amount_micro: amount), as: Posted.self)
    }

    func mint(to account: String, _ amount: Int64, kind: String, reason: String, reference: String) throws -> String {
        struct Request: Encodable { let account: String; let amount_micro: Int64; let kind: String; let reason: String; let reference: String }
        return try host.call("ledger.mint", Request(account: account, amount_micro: amount, kind: kind, reason: reason, reference: reference), as: Posted.self).hash
    }

    func balance(_ account: String) throws -> Int64 {
        try host.call("ledger.balance", ["account": account], as: Balance.self).balance_micro
    }
}

func lt(_ micro: Int64) -> Double { Double(micro) / 1_000_000 }
func nowMs(_ host: PluginHost) -> Int64 { Int64(host.now().timeIntervalSince1970 * 1000) }
func iso(_ ms: Int64) -> String { Date(timeIntervalSince1970: Double(ms) / 1000).formatted(.iso8601) }
