import Foundation
import LedgerCore
import StelltronPluginKit

/// Other plugins' numbers, asked through their `<id>.stats` service when that plugin is loaded.
/// A plugin that is absent, or does not offer stats yet, counts as zero.
enum PeerStats {
    static func fetch(_ service: String, host: PluginHost) -> [String: JSONValue] {
        guard let data = try? host.callRaw(service, Data("{}".utf8)),
              case .object(let object)? = try? JSONCoding.decode(JSONValue.self, from: data) else { return [:] }
        return object
    }

    static func number(_ stats: [String: JSONValue], _ key: String) -> JSONValue {
        stats[key] ?? .int(0)
    }
}

/// `GET /api/v1/ledger/overview`: the contract's four figures at the top level, the detail of each
/// area beside them.
struct Overview: Encodable {
    let total_minted: Double
    let total_burned: Double
    let circulating_supply: Double
    let total_co2_saved_kg: Double
    let marketplace: [String: JSONValue]
    let tokens: [String: JSONValue]
    let defi: [String: JSONValue]
    let carbon: [String: JSONValue]
    let depin: [String: JSONValue]
    let chain: [String: JSONValue]

    static func load(_ journal: Journal) throws -> Overview {
        let stats = try LedgerStats.load(journal)
        let market = PeerStats.fetch("market.stats", host: journal.host)
        let defi = PeerStats.fetch("defi.stats", host: journal.host)
        let depin = PeerStats.fetch("depin.stats", host: journal.host)
        return Overview(
            total_minted: stats.total_minted, total_burned: stats.total_burned, circulating_supply: stats.circulating_supply,
            total_co2_saved_kg: stats.total_co2_saved_kg,
            marketplace: [
                "total_trades": .int(stats.total_trades), "total_energy_traded": .double(stats.total_energy_traded_kwh),
                "total_volume": .double(stats.total_trade_volume), "total_fees": .double(stats.total_fees),
                "open_orders": PeerStats.number(market, "open_orders"),
            ],
            tokens: [
                "total_minted": .double(stats.total_minted), "total_burned": .double(stats.total_burned),
                "circulating_supply": .double(stats.circulating_supply), "total_mint_events": .int(stats.total_mint_events),
            ],
            defi: [
                "total_staked": PeerStats.number(defi, "total_staked"), "active_stakers": PeerStats.number(defi, "active_stakers"),
                "outstanding_loans": PeerStats.number(defi, "outstanding_loans"),
            ],
            carbon: ["total_co2_saved_kg": .double(stats.total_co2_saved_kg), "total_carbon_credits": .double(stats.total_carbon_credits)],
            depin: ["total_nodes": PeerStats.number(depin, "total_nodes"), "rewards_paid": PeerStats.number(depin, "rewards_paid")],
            chain: ["entries": .int(stats.total_entries), "head_hash": .string(stats.head_hash)])
    }
}

/// `GET /api/v1/analytics/dashboard`.
struct Dashboard: Encodable {
    let total_users: JSONValue
    let total_iot_devices: JSONValue
    let total_network_nodes: JSONValue
    let total_energy_traded: Double
    let active_orders: JSONValue

    static func load(_ journal: Journal) throws -> Dashboard {
        let users = PeerStats.fetch("host.users.count", host: journal.host)
        let iot = PeerStats.fetch("iot.stats", host: journal.host)
        let depin = PeerStats.fetch("depin.stats", host: journal.host)
        let market = PeerStats.fetch("market.stats", host: journal.host)
        return Dashboard(
            total_users: PeerStats.number(users, "count"), total_iot_devices: PeerStats.number(iot, "devices_online"),
            total_network_nodes: PeerStats.number(depin, "network_nodes"),
            total_energy_traded: MicroLT.lt(try journal.total("kwh_traded_micro")),
            active_orders: PeerStats.number(market, "open_orders"))
    }
}
