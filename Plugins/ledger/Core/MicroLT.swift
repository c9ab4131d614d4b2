import Foundation

/// LT amounts as integer micro-LT (1 LT = 1 000 000), so sums never drift. JSON shows LT as
/// decimals; services take and give micro-LT integers.
public enum MicroLT {
    public static let perLT: Int64 = 1_000_000
    /// 1 kWh delivered = 1000 LT.
    public static let perKWh: Int64 = 1_000 * perLT

    /// LT as a decimal for JSON (exact to the micro for any realistic amount).
    public static func lt(_ micro: Int64) -> Double {
        Double(micro) / Double(perLT)
    }

    /// Micro-LT for a decimal LT amount, rounded to the nearest micro; nil for NaN, infinities and
    /// amounts beyond 9e12 LT.
    public static func from(lt: Double) -> Int64? {
        guard lt.isFinite, abs(lt) < 9e12 else { return nil }
        return Int64((lt * Double(perLT)).rounded())
    }
}
