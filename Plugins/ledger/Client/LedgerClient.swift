import Foundation
import StelltronPluginKit

/// Typed calls to the ledger plugin's services, for the plugins that move LT (market, iot, defi,
/// depin) and for third parties. Amounts are integer micro-LT; each posting answers the entry hash
/// that becomes the caller's `tx_hash`. Calls run in the caller's transaction.
public struct LedgerClient {
    public let host: PluginHost

    public init(host: PluginHost) {
        self.host = host
    }

    struct Posted: Decodable { let hash: String }

    @discardableResult
    public func mint(to account: String, _ amountMicro: Int64, kind: String = "mint", reason: String, reference: String = "",
                     sourceDevice: String? = nil, qualityFactor: Double? = nil, kwh: Double? = nil) throws -> String {
        struct Request: Encodable {
            let account: String; let amount_micro: Int64; let kind: String; let reason: String; let reference: String
            let source_device: String?; let quality_factor: Double?; let kwh: Double?
        }
        return try post("ledger.mint", Request(account: account, amount_micro: amountMicro, kind: kind, reason: reason, reference: reference,
                                               source_device: sourceDevice, quality_factor: qualityFactor, kwh: kwh))
    }

    @discardableResult
    public func burn(from account: String, _ amountMicro: Int64, reason: String, reference: String = "") throws -> String {
        struct Request: Encodable { let account: String; let amount_micro: Int64; let reason: String; let reference: String }
        return try post("ledger.burn", Request(account: account, amount_micro: amountMicro, reason: reason, reference: reference))
    }

    @discardableResult
    public func transfer(from: String, to: String, _ amountMicro: Int64, kind: String = "transfer", reference: String = "") throws -> String {
        struct Request: Encodable { let from: String; let to: String; let amount_micro: Int64; let kind: String; let reference: String }
        return try post("ledger.transfer", Request(from: from, to: to, amount_micro: amountMicro, kind: kind, reference: reference))
    }

    /// Moves LT from `account` into the escrow account `escrow:<escrow>`.
    @discardableResult
    public func lock(_ account: String, escrow: String, _ amountMicro: Int64, reference: String = "") throws -> String {
        struct Request: Encodable { let account: String; let escrow: String; let amount_micro: Int64; let reference: String }
        return try post("ledger.lock", Request(account: account, escrow: escrow, amount_micro: amountMicro, reference: reference.isEmpty ? escrow : reference))
    }

    /// Moves LT out of `escrow:<escrow>` to `account`.
    @discardableResult
    public func release(escrow: String, to account: String, _ amountMicro: Int64, reference: String = "") throws -> String {
        struct Request: Encodable { let escrow: String; let to: String; let amount_micro: Int64; let reference: String }
        return try post("ledger.release", Request(escrow: escrow, to: account, amount_micro: amountMicro, reference: reference.isEmpty ? escrow : reference))
    }

    public func balance(of account: String) throws -> Int64 {
        struct Balance: Decodable { let balance_micro: Int64 }
        return try host.call("ledger.balance", ["account": account], as: Balance.self).balance_micro
    }

    /// Chains a record that moves nothing (`ledger.record_trade`, `record_carbon`, `record_price`).
    public func record<Record: Encodable>(_ service: String, _ record: Record) throws -> String {
        try post(service, record)
    }

    private func post<Request: Encodable>(_ service: String, _ request: Request) throws -> String {
        try host.call(service, request, as: Posted.self).hash
    }
}
