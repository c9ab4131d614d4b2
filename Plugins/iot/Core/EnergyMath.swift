/// The formulas of telemetry and energy reports (behaviour §6).
public enum EnergyMath {
    /// Quality of a delivered transfer by its average voltage: none or zero → 1.0; within
    /// 3.6–4.2 V → 1 + (V − 3.6) / 6; otherwise 0.85.
    public static func qualityFactor(averageVoltage: Double?) -> Double {
        guard let voltage = averageVoltage, voltage != 0 else { return 1.0 }
        if (3.6...4.2).contains(voltage) { return 1 + (voltage - 3.6) / 6 }
        return 0.85
    }

    /// The quality score q ∈ [0, 1] of one device, from its telemetry counters:
    /// `0.4 × ok/(total+1) + 0.3 × stability/100 + 0.3 × health/100`. The market turns the
    /// network's mean q into its price factor `f_quality = 1 + 0.1 × q`.
    public static func qualityScore(ok: Int64, total: Int64, voltageStability: Double, batteryHealth: Double) -> Double {
        0.4 * Double(ok) / Double(total + 1) + 0.3 * voltageStability / 100 + 0.3 * batteryHealth / 100
    }

    /// `qualityScore` over `iot_quality`'s columns, the same operations in the same order, for
    /// averaging in the database: the price reads the mean quality of every device, and fetching
    /// each row across the ABI made a price 17× slower with 1 000 devices (BENCHMARKS.md).
    public static let qualityScoreSQL = "0.4 * ok_count / (total_count + 1.0) + 0.3 * voltage_stability / 100 + 0.3 * battery_health / 100"

    /// `round2(kwh × 1000 × quality)`.
    public static func tokensMinted(kwh: Double, quality: Double) -> Double {
        (kwh * 1000 * quality * 100).rounded() / 100
    }

    public static func co2SavedKg(kwh: Double) -> Double { kwh * 0.82 }

    public static func carbonCredit(co2Kg: Double) -> Double { co2Kg * 0.05 }

    /// `clamp(100 − |avgV − 3.85| / 0.35 × 100, 0, 100)` over the given voltages.
    public static func voltageStability(_ voltages: [Double]) -> Double? {
        guard !voltages.isEmpty else { return nil }
        let average = voltages.reduce(0, +) / Double(voltages.count)
        return min(max(100 - abs(average - 3.85) / 0.35 * 100, 0), 100)
    }
}
