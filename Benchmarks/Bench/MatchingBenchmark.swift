import Foundation
import MarketCore

/// The matching engine alone: orders per second for a random stream against a book holding
/// `resting` orders, compared in the same run with a book of 100.
enum MatchingBenchmark {
    static func run() {
        let small = measure(resting: 100)
        let large = measure(resting: 10_000)
        print(String(format: "matching_orders_per_s(resting=100)=%.0f matching_orders_per_s(resting=10000)=%.0f ratio=%.2f",
                     small, large, large / small))
    }

    /// Builds a non-crossing book (bids 90–99, asks 101–110), then submits a random stream whose
    /// prices straddle the spread, so some orders trade and some rest. The book is topped up to
    /// keep its size.
    static func measure(resting: Int, stream: Int = 50_000) -> Double {
        var generator = SplitMix(seed: 42)
        var book = OrderBook()
        var sequence: Int64 = 0
        func order(crossing: Bool) -> BookOrder {
            sequence += 1
            let side: Side = generator.next() % 2 == 0 ? .buy : .sell
            let price: Int64 = crossing
                ? Int64(95 + generator.next() % 11) * 1_000_000
                : (side == .buy ? Int64(90 + generator.next() % 10) : Int64(101 + generator.next() % 10)) * 1_000_000
            return BookOrder(id: "o\(sequence)", userID: "u\(generator.next() % 50)", side: side, price: price,
                             remaining: Int64(1 + generator.next() % 1_000) * 1_000, sequence: sequence)
        }
        for _ in 0..<resting { _ = book.submit(order(crossing: false)) }
        let orders = (0..<stream).map { _ in order(crossing: true) }
        var fills = 0
        let elapsed = ContinuousClock().measure {
            for incoming in orders {
                fills += book.submit(incoming).count
                while book.buys.count + book.sells.count < resting { _ = book.submit(order(crossing: false)) }
            }
        }
        precondition(fills > 0)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(stream) / seconds
    }
}

/// A small deterministic generator, so every run measures the same stream.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
