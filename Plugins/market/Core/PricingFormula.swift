import Foundation

/// The default dynamic price (behaviour §4):
/// `final = base × clamp(f_sd × f_soc × f_dist × f_time × f_quality, 0.5, 5.0)`.
/// A plain value type so that every factor and boundary can be tested without a host.
public struct PricingFormula: Sendable, Equatable {
    public var basePrice: Double
    /// `d` in `f_dist = 1 + 0.2 × d`.
    public var distance: Double
    /// The market's time zone for `f_time`.
    public var timeZone: TimeZone

    public init(basePrice: Double = 5.0, distance: Double = 1.0, timeZone: TimeZone = TimeZone(identifier: "UTC")!) {
        self.basePrice = basePrice
        self.distance = distance
        self.timeZone = timeZone
    }

    /// What the market knows when it quotes.
    public struct Inputs: Sendable, Equatable {
        /// Open sell orders (S) and open buy orders (D).
        public var openSells: Int
        public var openBuys: Int
        /// Mean node SoC in percent over recent telemetry, nil when there is none.
        public var meanSoC: Double?
        /// Quality score q ∈ [0, 1] of the devices, nil when unknown.
        public var quality: Double?
        public var date: Date

        public init(openSells: Int, openBuys: Int, meanSoC: Double? = nil, quality: Double? = nil, date: Date) {
            self.openSells = openSells
            self.openBuys = openBuys
            self.meanSoC = meanSoC
            self.quality = quality
            self.date = date
        }
    }

    public struct Quote: Sendable, Equatable, Codable {
        public var price: Double
        public var supply: Int
        public var demand: Int
        public var breakdown: Breakdown
    }

    public struct Breakdown: Sendable, Equatable, Codable {
        public var base_price: Double
        public var f_sd: Double
        public var f_soc: Double
        public var f_dist: Double
        public var f_time: Double
        public var f_quality: Double
        public var final_price: Double
    }

    /// Factors an operator replaced (foreign hooks); nil keeps the formula's own.
    public struct Overrides: Sendable, Equatable {
        public var f_sd: Double?
        public var f_soc: Double?
        public var f_dist: Double?
        public var f_time: Double?
        public var f_quality: Double?

        public init(f_sd: Double? = nil, f_soc: Double? = nil, f_dist: Double? = nil, f_time: Double? = nil, f_quality: Double? = nil) {
            self.f_sd = f_sd
            self.f_soc = f_soc
            self.f_dist = f_dist
            self.f_time = f_time
            self.f_quality = f_quality
        }
    }

    public func quote(_ inputs: Inputs, overrides: Overrides = Overrides()) -> Quote {
        let sd = overrides.f_sd ?? Self.supplyDemandFactor(sells: inputs.openSells, buys: inputs.openBuys)
        let soc = overrides.f_soc ?? Self.socFactor(meanSoC: inputs.meanSoC)
        let dist = overrides.f_dist ?? 1 + 0.2 * distance
        let time = overrides.f_time ?? timeFactor(at: inputs.date)
        let quality = overrides.f_quality ?? Self.qualityFactor(inputs.quality)
        let multiplier = min(max(sd * soc * dist * time * quality, 0.5), 5.0)
        let price = Self.round(basePrice * multiplier, places: 2)
        return Quote(price: price, supply: inputs.openSells, demand: inputs.openBuys, breakdown: Breakdown(
            base_price: basePrice, f_sd: Self.round(sd, places: 3), f_soc: Self.round(soc, places: 3),
            f_dist: Self.round(dist, places: 3), f_time: time, f_quality: Self.round(quality, places: 3), final_price: price))
    }

    /// `1 + 0.2 × ln(D / S)` with S floored to 1 and D to 0.1.
    public static func supplyDemandFactor(sells: Int, buys: Int) -> Double {
        let supply = sells <= 0 ? 1.0 : Double(sells)
        let demand = buys <= 0 ? 0.1 : Double(buys)
        return 1 + 0.2 * log(demand / supply)
    }

    /// `1 + 0.5 × (1 − soc)²` with soc the mean SoC as a fraction, clamped to [0, 1]; 0.5 without data.
    public static func socFactor(meanSoC: Double?) -> Double {
        let soc = meanSoC.map { min(max($0, 0), 100) / 100 } ?? 0.5
        return 1 + 0.5 * (1 - soc) * (1 - soc)
    }

    /// `1 + 0.1 × q`, 1.0 when unknown.
    public static func qualityFactor(_ q: Double?) -> Double {
        guard let q, q.isFinite else { return 1.0 }
        return 1 + 0.1 * min(max(q, 0), 1)
    }

    /// The market's local hour (0–23) at `date`.
    public func localHour(at date: Date) -> Int {
        // The zone's offset at that instant (daylight saving included) moves the hour of UTC's
        // day: a calendar's date components cost 1.4 % of a price request's samples.
        let local = Int(date.timeIntervalSince1970.rounded(.down)) + timeZone.secondsFromGMT(for: date)
        let hours = local >= 0 ? local / 3600 : (local - 3599) / 3600
        return (hours % 24 + 24) % 24
    }

    /// Evening peak 1.3, morning 1.15, night 0.85, otherwise 1.0, by the market's local hour.
    public func timeFactor(at date: Date) -> Double {
        switch localHour(at: date) {
        case 18..<22: return 1.3
        case 6..<9: return 1.15
        case 2..<6: return 0.85
        default: return 1.0
        }
    }

    static func round(_ value: Double, places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }
}
