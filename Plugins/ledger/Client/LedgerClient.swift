import Foundation
import StelltronPluginKit

/// Typed calls to the ledger plugin's services, for the plugins that move LT (market, iot, defi,
/// depin) and for third parties. Amounts are integer micro-LT; each posting answers the entry hash
/// that becomes the caller's `tx_hash`. Calls run in the caller's transaction. The requests are
/// the `LedgerRequest` types the ledger itself decodes.
public struct LedgerClient {
    public let host: PluginHost

    public init(host: PluginHost) {
        self.host = host
    }

    struct Posted: Decodable { let hash: String }

    @discardableResult
    public func mint(to account: String, _ amountMicro: Int64, kind: String = "mint", reason: String, reference: String = "",
                     sourceDevice: String? = nil, qualityFactor: Double? = nil, kwh: Double? = nil, memo: String? = nil) throws -> String {
        try post("ledger.mint", LedgerRequest.Mint(account: account, amount_micro: amountMicro, kind: kind, reason: reason, reference: reference,
                                                   source_device: sourceDevice, quality_factor: qualityFactor, kwh: kwh, memo: memo))
    }

    @discardableResult
    public func burn(from account: String, _ amountMicro: Int64, reason: String, reference: String = "") throws -> String {
        try post("ledger.burn", LedgerRequest.Burn(account: account, amount_micro: amountMicro, reason: reason, reference: reference))
    }

    @discardableResult
    public func transfer(from: String, to: String, _ amountMicro: Int64, kind: String = "transfer", reference: String = "",
                         memo: String? = nil) throws -> String {
        try post("ledger.transfer", LedgerRequest.Transfer(from: from, to: to, amount_micro: amountMicro, kind: kind, reference: reference, memo: memo))
    }

    /// Moves LT from `account` into the escrow account `escrow:<escrow>`.
    @discardableResult
    public func lock(_ account: String, escrow: String, _ amountMicro: Int64, reference: String = "") throws -> String {
        try post("ledger.lock", LedgerRequest.Lock(account: account, escrow: escrow, amount_micro: amountMicro,
                                                   reference: reference.isEmpty ? escrow : reference))
    }

    /// Moves LT out of `escrow:<escrow>` to `account`.
    @discardableResult
    public func release(escrow: String, to account: String, _ amountMicro: Int64, reference: String = "") throws -> String {
        try post("ledger.release", LedgerRequest.Release(escrow: escrow, to: account, amount_micro: amountMicro,
                                                         reference: reference.isEmpty ? escrow : reference))
    }

    public func balance(of account: String) throws -> Int64 {
        try host.call("ledger.balance", LedgerRequest.Balance(account: account), as: LedgerAnswer.Balance.self).balance_micro
    }

    /// Chains a completed trade (moves nothing).
    @discardableResult
    public func record(_ trade: LedgerRequest.Trade) throws -> String {
        try post("ledger.record_trade", trade)
    }

    /// Chains a carbon credit (moves nothing).
    @discardableResult
    public func record(_ carbon: LedgerRequest.Carbon) throws -> String {
        try post("ledger.record_carbon", carbon)
    }

    /// Chains a price calculation (moves nothing).
    @discardableResult
    public func record(_ price: LedgerRequest.Price) throws -> String {
        try post("ledger.record_price", price)
    }

    private func post<Request: Encodable>(_ service: String, _ request: Request) throws -> String {
        try host.call(service, request, as: Posted.self).hash
    }
}
