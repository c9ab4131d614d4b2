import Foundation
import LedgerClient
import MarketCore
import StelltronPluginKit

/// The `pricing` slot as the market fills it: gathers the formula's inputs (the book here, the
/// telemetry through the `iot` plugin when it is loaded) and records quotes in the ledger's price
/// history — when the price moved, at most once a minute, and always when asked (trades, energy
/// reports). Reading the price never records it.
struct Pricing {
    let formula: PricingFormula
    let hooks: PricingHooks
    let host: PluginHost

    struct Request: Decodable {
        /// "always": record this quote; "if_changed" (default): when it moved since the last
        /// record and that record is a minute old; "never": just quote.
        var record: String?
    }

    struct Answer: Encodable {
        let price: Double
        let supply: Int
        let demand: Int
        let timestamp: String
        let breakdown: PricingFormula.Breakdown
        let tx_hash: String?
    }

    /// The telemetry service's request: it takes none.
    private static let noArguments = Data("{}".utf8)

    /// What the IoT plugin reports about recent telemetry, if it is loaded.
    struct Telemetry: Decodable {
        var mean_soc: Double?
        var quality: Double?
    }

    func quote(record mode: String = "if_changed") throws -> Answer {
        let counts = try host.query("SELECT type, n FROM market_open_counts")
        func count(_ type: String) -> Int { Int(counts.first { $0["type"]?.stringValue == type }?["n"]?.int64Value ?? 0) }
        let telemetry = (try? JSONCoding.decode(Telemetry.self, from: host.callRaw("iot.telemetry_summary", Self.noArguments))) ?? Telemetry()
        let now = host.now()
        let inputs = PricingFormula.Inputs(openSells: count("sell"), openBuys: count("buy"), meanSoC: telemetry.mean_soc,
                                           quality: telemetry.quality, date: now)
        let quote = formula.quote(inputs, overrides: hooks.overrides(inputs, formula: formula))
        var hash: String?
        if try shouldRecord(quote.price, mode: mode, now: now) {
            hash = try LedgerClient(host: host).record(LedgerRequest.Price(
                price: quote.price, supply: Double(quote.supply), demand: Double(quote.demand),
                breakdown: try JSONCoding.value(of: quote.breakdown)))
            try host.execute("""
                INSERT INTO market_last_quote (id, price, recorded_ms) VALUES (1, ?, ?)
                ON CONFLICT(id) DO UPDATE SET price = excluded.price, recorded_ms = excluded.recorded_ms
                """, [.double(quote.price), .int(Int64(now.timeIntervalSince1970 * 1000))])
        }
        return Answer(price: quote.price, supply: quote.supply, demand: quote.demand, timestamp: Timestamp.iso8601(now),
                      breakdown: quote.breakdown, tx_hash: hash)
    }

    private func shouldRecord(_ price: Double, mode: String, now: Date) throws -> Bool {
        switch mode {
        case "always": return true
        case "never": return false
        default:
            guard let last = try host.query("SELECT price, recorded_ms FROM market_last_quote WHERE id = 1").first else { return true }
            guard last["price"]?.doubleValue != price else { return false }
            let recorded = last["recorded_ms"]?.int64Value ?? 0
            return Int64(now.timeIntervalSince1970 * 1000) - recorded >= 60_000
        }
    }

    /// Reads base price, distance and time zone from plugins.conf.
    static func formula(from config: JSONValue) throws -> PricingFormula {
        var formula = PricingFormula()
        if let base = config["base_price"]?.doubleValue {
            guard base > 0, base.isFinite else { throw PluginError.badRequest("base_price must be positive") }
            formula.basePrice = base
        }
        if let distance = config["distance"]?.doubleValue {
            guard distance >= 0, distance.isFinite else { throw PluginError.badRequest("distance must be ≥ 0") }
            formula.distance = distance
        }
        if let zone = config["time_zone"]?.stringValue {
            guard let timeZone = TimeZone(identifier: zone) else { throw PluginError.badRequest("unknown time_zone \(zone)") }
            formula.timeZone = timeZone
        }
        return formula
    }
}
