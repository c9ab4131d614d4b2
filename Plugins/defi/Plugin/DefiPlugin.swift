import DefiCore
import Foundation
import StelltronPluginKit

/// The DeFi plugin: the staking pool and flash loans. Every LT movement goes through the ledger;
/// identity is always the authenticated caller, never a body field.
final class DefiPlugin: StelltronPlugin {
    static let manifest = PluginManifest(
        id: "defi",
        version: "1.0.0",
        description: "staking and flash loans",
        routes: [
            Route(.post, "/api/v1/defi/pool/stake", access: .protected, mode: .write, summary: "Stake LT in the pool",
                  requestSchema: #"{"type":"object","properties":{"amount":{"type":"number","minimum":1e-06,"maximum":1000000000}},"required":["amount"]}"#),
            Route(.post, "/api/v1/defi/pool/unstake", access: .protected, mode: .write, summary: "Withdraw a position with its yield",
                  requestSchema: #"{"type":"object","properties":{"stake_id":{"type":"integer","minimum":1}},"required":["stake_id"]}"#),
            Route(.get, "/api/v1/defi/pool/stats", access: .protected, mode: .read, summary: "TVL, APY, utilization"),
            Route(.post, "/api/v1/defi/flash-loan", access: .protected, mode: .write, summary: "Borrow pool LT for 5 minutes",
                  requestSchema: #"{"type":"object","properties":{"kwh_borrowed":{"type":"number","minimum":0.001,"maximum":50},"token_collateral":{"type":"number","minimum":0.001,"maximum":1000000000000}},"required":["kwh_borrowed","token_collateral"]}"#),
            Route(.post, "/api/v1/defi/flash-loan/repay", access: .protected, mode: .write, summary: "Repay a loan",
                  requestSchema: #"{"type":"object","properties":{"loan_id":{"type":"integer","minimum":1}},"required":["loan_id"]}"#),
            Route(.get, "/api/v1/defi/yield/history", access: .protected, mode: .read, summary: "The caller's yield records"),
        ],
        services: [Service("defi.stats", writes: false, summary: "pool totals")],
        migrations: Schema.migrations,
        tickIntervalMilliseconds: 5_000
    )

    init(config: JSONValue, host: PluginHost) throws {}

    func handle(_ request: PluginRequest, host: PluginHost) throws -> PluginResponse {
        let caller = try request.requireUser()
        switch request.route {
        case "/api/v1/defi/pool/stake": return try Staking(host: host).stake(request.body, caller: caller)
        case "/api/v1/defi/pool/unstake": return try Staking(host: host).unstake(request.body, caller: caller)
        case "/api/v1/defi/pool/stats": return try .json(try stats(host))
        case "/api/v1/defi/flash-loan": return try FlashLoans(host: host).borrow(request.body, caller: caller)
        case "/api/v1/defi/flash-loan/repay": return try FlashLoans(host: host).repay(request.body, caller: caller)
        case "/api/v1/defi/yield/history": return try Staking(host: host).yieldHistory(caller)
        default: throw PluginError.notFound("no route \(request.route)")
        }
    }

    func callService(_ name: String, request: Data, host: PluginHost) throws -> Data {
        guard name == "defi.stats" else { throw PluginError(.unknownService, "defi has no service \(name)") }
        return try JSONCoding.encode(try stats(host))
    }

    func tick(host: PluginHost) throws {
        try FlashLoans(host: host).liquidateOverdue()
    }

    private func stats(_ host: PluginHost) throws -> [String: JSONValue] {
        let staking = Staking(host: host)
        let total = try staking.totalActive()
        let stakers = try host.query("SELECT COUNT(DISTINCT user_id) AS n FROM defi_stakes WHERE status = 'active'").first?["n"]?.int64Value ?? 0
        let outstanding = try FlashLoans(host: host).outstanding()
        return ["total_staked": .double(lt(total)), "active_stakers": .int(stakers), "current_apy": .double(PoolRules.apy(totalActiveMicro: total)),
                "pool_utilization": .double(total > 0 ? Double(outstanding) / Double(total) : 0), "outstanding_loans": .double(lt(outstanding))]
    }
}

@_cdecl("stl_plugin_entry")
public func stl_plugin_entry(_ hostABIMajor: UInt32, _ hostABIMinor: UInt32) -> UnsafeRawPointer? {
    exportPlugin(DefiPlugin.self, hostABIMajor: hostABIMajor)
}
