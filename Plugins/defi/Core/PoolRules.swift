/// The staking pool's and flash loans' rules (behaviour §8), as plain functions. Amounts are
/// integer micro-LT.
public enum PoolRules {
    /// APY frozen for a new position, given the total active stake before it:
    /// 8.5 % up to 10 000 LT, then 8.5 × 10 000 / T, never under 3 %.
    public static func apy(totalActiveMicro: Int64) -> Double {
        let total = Double(totalActiveMicro) / 1_000_000
        if total <= 10_000 { return 8.5 }
        return max(3.0, 8.5 * 10_000 / total)
    }

    /// Simple interest: `amount × apy/100 × hours/8760`, in micro-LT, rounded down.
    public static func interestMicro(amountMicro: Int64, apy: Double, seconds: Double) -> Int64 {
        guard seconds > 0 else { return 0 }
        let hours = seconds / 3600
        return Int64((Double(amountMicro) * apy / 100 * hours / 8760).rounded(.down))
    }

    public static let maxLoanKWh = 50.0
    /// Share of the pool's available LT one loan may take.
    public static let maxLoanShare = 0.8
    public static let collateralRatio = 1.5
    /// 0.3 % of the borrowed tokens.
    public static func feeMicro(tokensMicro: Int64) -> Int64 { (tokensMicro * 3 + 500) / 1000 }
    public static let loanSeconds: Double = 300

    public enum LoanProblem: Error, Equatable {
        case amount, liquidity(availableMicro: Int64), collateral(requiredMicro: Int64)
    }

    /// Checks a loan request; returns the tokens lent in micro-LT.
    public static func checkLoan(kwh: Double, collateralMicro: Int64, poolAvailableMicro: Int64) throws -> Int64 {
        guard kwh.isFinite, kwh > 0, kwh <= maxLoanKWh else { throw LoanProblem.amount }
        let tokens = Int64((kwh * 1_000 * 1_000_000).rounded())
        guard Double(tokens) <= maxLoanShare * Double(poolAvailableMicro) else { throw LoanProblem.liquidity(availableMicro: poolAvailableMicro) }
        let required = Int64((Double(tokens) * collateralRatio).rounded(.up))
        guard collateralMicro >= required else { throw LoanProblem.collateral(requiredMicro: required) }
        return tokens
    }
}
