import DefiCore
import DepinCore
import Testing

@Suite("defi and depin rules")
struct DefiDepinCoreTests {
    @Test func apyFallsWithTheStakeButNotUnderThree() {
        #expect(PoolRules.apy(totalActiveMicro: 0) == 8.5)
        #expect(PoolRules.apy(totalActiveMicro: 10_000_000_000) == 8.5)
        #expect(PoolRules.apy(totalActiveMicro: 20_000_000_000) == 4.25)
        #expect(PoolRules.apy(totalActiveMicro: 1_000_000_000_000) == 3.0)
    }

    @Test func simpleInterest() {
        // 1000 LT at 8.5 % for a tenth of a year: 8.5 LT.
        #expect(PoolRules.interestMicro(amountMicro: 1_000_000_000, apy: 8.5, seconds: 876 * 3600) == 8_500_000)
        #expect(PoolRules.interestMicro(amountMicro: 1_000_000_000, apy: 8.5, seconds: 0) == 0)
    }

    @Test func loanBounds() throws {
        #expect(try PoolRules.checkLoan(kwh: 5, collateralMicro: 7_500_000_000, poolAvailableMicro: 10_000_000_000) == 5_000_000_000)
        #expect(throws: PoolRules.LoanProblem.amount) { try PoolRules.checkLoan(kwh: 0, collateralMicro: 1, poolAvailableMicro: 1) }
        #expect(throws: PoolRules.LoanProblem.amount) { try PoolRules.checkLoan(kwh: 50.1, collateralMicro: 1, poolAvailableMicro: 1) }
        #expect(throws: PoolRules.LoanProblem.liquidity(availableMicro: 6_000_000_000)) {
            try PoolRules.checkLoan(kwh: 5, collateralMicro: 7_500_000_000, poolAvailableMicro: 6_000_000_000)
        }
        #expect(throws: PoolRules.LoanProblem.collateral(requiredMicro: 7_500_000_000)) {
            try PoolRules.checkLoan(kwh: 5, collateralMicro: 7_499_999_999, poolAvailableMicro: 10_000_000_000)
        }
        #expect(PoolRules.feeMicro(tokensMicro: 5_000_000_000) == 15_000_000)
    }

    @Test func uptimeIsCreditedOnlyForShortGaps() {
        #expect(Uptime.creditedSeconds(sinceLastSeen: 600) == 600)
        #expect(Uptime.creditedSeconds(sinceLastSeen: 601) == 0)
        #expect(Uptime.creditedSeconds(sinceLastSeen: -5) == 0)
        #expect(Uptime.rewardMicro(creditedSeconds: 86_400, kwhRouted: 0.5) == 10_500_000)
        #expect(Uptime.reliability(uptime: 300, sinceRegistration: 3_900) == 300.0 / 3_900 * 100)
    }

    @Test(arguments: [
        (0, 0.0, 0.0, "no_nodes"), (3, 95.0, 0.9, "excellent"), (3, 95.0, 0.7, "good"), (3, 75.0, 0.6, "good"),
        (3, 75.0, 0.4, "degraded"), (3, 55.0, 1.0, "degraded"), (3, 40.0, 1.0, "critical"),
    ])
    func networkHealth(nodes: Int, reliability: Double, online: Double, health: String) {
        #expect(Uptime.networkHealth(nodes: nodes, averageReliability: reliability, onlineShare: online) == health)
    }
}
