import MarketCore
import StelltronPluginKit

/// The pricing factors an operator may replace with plain C functions (`[hooks]` in plugins.conf).
/// The market declares the points; the host binds them at load and hands the functions over once,
/// in `init`, so a quote calls them directly — no service call, no JSON.
struct PricingHooks {
    typealias Pair = @convention(c) (Int32, Int32) -> Double
    typealias Scalar = @convention(c) (Double) -> Double
    typealias Hour = @convention(c) (Int32) -> Double

    static let points: [PluginManifest.HookPoint] = [
        .init("pricing.f_sd", signature: "double(int32,int32)", summary: "supply/demand factor from (open sell orders, open buy orders)"),
        .init("pricing.f_soc", signature: "double(double)", summary: "network SoC factor from (mean SoC %, −1 when unknown)"),
        .init("pricing.f_dist", signature: "double(double)", summary: "distance factor from (distance)"),
        .init("pricing.f_time", signature: "double(int32)", summary: "time-of-use factor from (local hour 0–23)"),
        .init("pricing.f_quality", signature: "double(double)", summary: "quality factor from (mean quality score 0–1, −1 when unknown)"),
    ]

    let supplyDemand: Pair?
    let soc: Scalar?
    let distance: Scalar?
    let time: Hour?
    let quality: Scalar?

    init(host: PluginHost) throws {
        supplyDemand = try host.hookFunction("pricing.f_sd", as: Pair.self)
        soc = try host.hookFunction("pricing.f_soc", as: Scalar.self)
        distance = try host.hookFunction("pricing.f_dist", as: Scalar.self)
        time = try host.hookFunction("pricing.f_time", as: Hour.self)
        quality = try host.hookFunction("pricing.f_quality", as: Scalar.self)
    }

    /// The factors the bound functions replace; a function answering NaN or ±∞ leaves the
    /// built-in factor in place.
    func overrides(_ inputs: PricingFormula.Inputs, formula: PricingFormula) -> PricingFormula.Overrides {
        func finite(_ value: Double?) -> Double? { value.flatMap { $0.isFinite ? $0 : nil } }
        return PricingFormula.Overrides(
            f_sd: finite(supplyDemand?(Int32(clamping: inputs.openSells), Int32(clamping: inputs.openBuys))),
            f_soc: finite(soc?(inputs.meanSoC ?? -1)),
            f_dist: finite(distance?(formula.distance)),
            f_time: finite(time?(Int32(formula.localHour(at: inputs.date)))),
            f_quality: finite(quality?(inputs.quality ?? -1)))
    }
}
