/// Issuance bounded by physics: the energy a device is credited over any window is at most its
/// rated power × the elapsed time. Each credited report covers an interval ending when it is
/// received; intervals never overlap, and a report's energy must fit its interval at the rating.
public enum EnergyWindow {
    /// Network jitter tolerated before a report's start counts as overlapping the previous one.
    /// The credited interval is clipped to the previous end either way, so the bound still holds.
    public static let overlapToleranceMs: Int64 = 2_000

    public enum Refusal: Error, Equatable {
        /// The report starts before the previous credited one ended.
        case overlaps(previousEndMs: Int64)
        /// More energy than the rating allows in the interval: `maxKWh` would have fitted.
        case exceedsRating(maxKWh: Double, seconds: Double)
        case badDuration
    }

    /// The interval a report is credited for, received at `nowMs`, claiming `durationSeconds`
    /// (nil: since the previous end), after the previous credited interval ended at `previousEndMs`.
    /// Answers the interval's start; throws when the report cannot be credited.
    public static func check(kwh: Double, durationSeconds: Double?, ratedKW: Double, previousEndMs: Int64, nowMs: Int64) throws -> Int64 {
        var start = previousEndMs
        if let durationSeconds {
            guard durationSeconds.isFinite, durationSeconds > 0, durationSeconds <= maxDurationSeconds else { throw Refusal.badDuration }
            let claimed = nowMs - Int64((durationSeconds * 1000).rounded())
            if claimed < previousEndMs - overlapToleranceMs { throw Refusal.overlaps(previousEndMs: previousEndMs) }
            start = max(claimed, previousEndMs)
        }
        let seconds = Double(max(nowMs - start, 0)) / 1000
        let maxKWh = ratedKW * seconds / 3600
        // A relative epsilon: 0.5 kWh over exactly 180 s at 10 kW must fit despite rounding.
        guard kwh <= maxKWh * (1 + 1e-9) else { throw Refusal.exceedsRating(maxKWh: maxKWh, seconds: seconds) }
        return start
    }

    /// A report covers at most a day.
    public static let maxDurationSeconds: Double = 86_400
}
