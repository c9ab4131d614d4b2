/// DePIN uptime and rewards (behaviour §7): a heartbeat credits the time since the last one only
/// when that gap is at most 10 minutes; reliability is credited uptime over the time since
/// registration; rewards are 10 LT per day of credited uptime (prorated) plus 1 LT per kWh routed.
public enum Uptime {
    public static let maxCreditedGap: Double = 600
    public static let rewardPerDayMicro: Int64 = 10_000_000
    public static let rewardPerKWhMicro: Int64 = 1_000_000

    public static func creditedSeconds(sinceLastSeen gap: Double) -> Double {
        gap > 0 && gap <= maxCreditedGap ? gap : 0
    }

    /// Percent, 0–100.
    public static func reliability(uptime: Double, sinceRegistration: Double) -> Double {
        guard sinceRegistration > 0 else { return 100 }
        return min(100, max(0, uptime / sinceRegistration * 100))
    }

    public static func rewardMicro(creditedSeconds: Double, kwhRouted: Double) -> Int64 {
        Int64((Double(rewardPerDayMicro) * creditedSeconds / 86_400).rounded(.down)) + Int64((kwhRouted * Double(rewardPerKWhMicro)).rounded(.down))
    }

    /// `no_nodes`, `excellent` (avg > 90 and online > 80 %), `good` (> 70, > 50 %), `degraded` (> 50), else `critical`.
    public static func networkHealth(nodes: Int, averageReliability: Double, onlineShare: Double) -> String {
        if nodes == 0 { return "no_nodes" }
        if averageReliability > 90 && onlineShare > 0.8 { return "excellent" }
        if averageReliability > 70 && onlineShare > 0.5 { return "good" }
        if averageReliability > 50 { return "degraded" }
        return "critical"
    }
}
