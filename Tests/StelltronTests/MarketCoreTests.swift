import Foundation
import MarketCore
import Testing

/// The pricing formula factor by factor, and the matching engine's invariants.
@Suite("market core")
struct MarketCoreTests {
    let utc = TimeZone(identifier: "UTC")!

    private func date(hour: Int, minute: Int = 0, zone: TimeZone = TimeZone(identifier: "UTC")!) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        return calendar.date(from: DateComponents(year: 2026, month: 2, day: 23, hour: hour, minute: minute))!
    }

    @Test(arguments: [
        (1, 1.0), (2, 0.85), (5, 0.85), (6, 1.15), (8, 1.15), (9, 1.0), (17, 1.0), (18, 1.3), (21, 1.3), (22, 1.0), (0, 1.0),
    ])
    func timeBands(hour: Int, factor: Double) {
        #expect(PricingFormula().timeFactor(at: date(hour: hour, minute: hour == 1 ? 59 : 0)) == factor)
    }

    @Test func timeZoneMovesTheBands() {
        let madrid = TimeZone(identifier: "Europe/Madrid")!
        let formula = PricingFormula(timeZone: madrid)
        // 17:30 UTC is 18:30 in Madrid in February: evening peak there, not in UTC.
        #expect(formula.timeFactor(at: date(hour: 17, minute: 30)) == 1.3)
        #expect(PricingFormula().timeFactor(at: date(hour: 17, minute: 30)) == 1.0)
    }

    /// The local hour from the zone's offset is the calendar's, across daylight-saving changes,
    /// half-hour zones, a date line zone and instants before 1970.
    @Test(arguments: ["UTC", "Europe/Madrid", "America/St_Johns", "Asia/Kolkata", "Pacific/Kiritimati", "America/Los_Angeles"])
    func localHourIsTheCalendars(zone identifier: String) throws {
        let zone = try #require(TimeZone(identifier: identifier))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let formula = PricingFormula(timeZone: zone)
        // Every 37 minutes and 11 seconds over two years around the 2026 changes, and around 1969.
        for start in [1_750_000_000.0, -10_000_000.0] {
            for step in stride(from: 0.0, to: 2 * 365 * 86_400, by: 2_231) {
                let date = Date(timeIntervalSince1970: start + step)
                #expect(formula.localHour(at: date) == calendar.component(.hour, from: date), "\(identifier) \(date)")
            }
        }
    }

    @Test func supplyDemandFloors() {
        #expect(PricingFormula.supplyDemandFactor(sells: 5, buys: 5) == 1.0)
        #expect(abs(PricingFormula.supplyDemandFactor(sells: 7, buys: 5) - (1 + 0.2 * log(5.0 / 7.0))) < 1e-12)
        // No sells: S floors to 1. No buys: D floors to 0.1.
        #expect(PricingFormula.supplyDemandFactor(sells: 0, buys: 2) == 1 + 0.2 * log(2.0))
        #expect(PricingFormula.supplyDemandFactor(sells: 1, buys: 0) == 1 + 0.2 * log(0.1))
    }

    @Test func socClampsAndDefaults() {
        #expect(PricingFormula.socFactor(meanSoC: nil) == 1.125)
        #expect(PricingFormula.socFactor(meanSoC: 100) == 1.0)
        #expect(PricingFormula.socFactor(meanSoC: 0) == 1.5)
        #expect(PricingFormula.socFactor(meanSoC: 250) == 1.0)
        #expect(PricingFormula.socFactor(meanSoC: -10) == 1.5)
        #expect(PricingFormula.qualityFactor(nil) == 1.0)
        #expect(PricingFormula.qualityFactor(1) == 1.1)
    }

    @Test func theMultiplierIsClamped() {
        let low = PricingFormula().quote(.init(openSells: 1000, openBuys: 0, meanSoC: 100, date: date(hour: 3)))
        #expect(low.price == 2.5)
        #expect(low.breakdown.final_price == low.price)
        let high = PricingFormula(basePrice: 5, distance: 50).quote(.init(openSells: 0, openBuys: 1000, meanSoC: 0, date: date(hour: 19)))
        #expect(high.price == 25)
    }

    @Test func aReferenceQuote() {
        let quote = PricingFormula().quote(.init(openSells: 7, openBuys: 5, meanSoC: 72.4, quality: 0.8, date: date(hour: 7)))
        let expected = 5 * (1 + 0.2 * log(5.0 / 7.0)) * (1 + 0.5 * 0.276 * 0.276) * 1.2 * 1.15 * 1.08
        #expect(abs(quote.price - (expected * 100).rounded() / 100) < 1e-9)
        #expect(quote.supply == 7 && quote.demand == 5)
        #expect(quote.breakdown.f_dist == 1.2 && quote.breakdown.f_time == 1.15 && quote.breakdown.f_quality == 1.08)
    }

    @Test func matchingUsesPriceTimePriorityAndTheRestingPrice() {
        var book = OrderBook()
        #expect(book.submit(.init(id: "s1", userID: "A", side: .sell, price: 10, remaining: 5, sequence: 1)).isEmpty)
        #expect(book.submit(.init(id: "s2", userID: "B", side: .sell, price: 9, remaining: 5, sequence: 2)).isEmpty)
        #expect(book.submit(.init(id: "s3", userID: "C", side: .sell, price: 9, remaining: 5, sequence: 3)).isEmpty)
        let fills = book.submit(.init(id: "b1", userID: "D", side: .buy, price: 11, remaining: 12, sequence: 4))
        #expect(fills.map(\.makerID) == ["s2", "s3", "s1"])
        #expect(fills.map(\.price) == [9, 9, 10])
        #expect(fills.map(\.quantity) == [5, 5, 2])
        #expect(book.sells.map(\.remaining) == [3])
        // No self-trade: A's own buy rests beside A's sell.
        #expect(book.submit(.init(id: "b2", userID: "A", side: .buy, price: 20, remaining: 1, sequence: 5)).isEmpty)
    }

    @Test func randomStreamsConserveEnergyAndNeverLeaveACrossedBook() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            var book = OrderBook()
            var submitted: [String: Int64] = [:]
            var filled: [String: Int64] = [:]
            for sequence in 0..<400 {
                let order = BookOrder(id: "o\(sequence)", userID: "u\(Int.random(in: 0..<6, using: &generator))",
                                      side: Bool.random(using: &generator) ? .buy : .sell, price: Int64.random(in: 90...110, using: &generator),
                                      remaining: Int64.random(in: 1...50, using: &generator), sequence: Int64(sequence))
                submitted[order.id] = order.remaining
                for fill in book.submit(order) {
                    #expect(fill.buyerID != fill.sellerID)
                    filled[fill.buyOrderID, default: 0] += fill.quantity
                    filled[fill.sellOrderID, default: 0] += fill.quantity
                }
            }
            // Every order's filled part plus its resting part is exactly what it came with.
            var accounted = filled
            for resting in book.buys + book.sells { accounted[resting.id, default: 0] += resting.remaining }
            for (id, amount) in submitted { #expect(accounted[id, default: 0] == amount) }
            // Between different users, the best bid never reaches the best ask.
            for buy in book.buys { for sell in book.sells where sell.userID != buy.userID { #expect(buy.price < sell.price) } }
        }
    }
}
