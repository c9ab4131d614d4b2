import Atomics

/// Request ids for the requests an event loop answers itself (`InlineRequests`), in the form of
/// Hummingbird's `RequestID` for the router's: a random prefix of this process, then a counter,
/// in lowercase hex. Their own prefix and counter: the router's are internal to Hummingbird, and
/// its `description` pads and joins three strings, 1.4 % of `/health` (`perf`; BENCHMARKS.md,
/// issue 16, sixteenth session). Both halves have sixteen digits, so every id has 32 (the
/// router's prefix drops its leading zeros: one process in sixteen writes 31).
enum InlineRequestID {
    private static let prefix = UInt64.random(in: .min ... .max)
    private static let counter = ManagedAtomic<UInt64>(UInt64.random(in: .min ... .max))
    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func next() -> String {
        let value = counter.loadThenWrappingIncrement(ordering: .relaxed)
        return String(unsafeUninitializedCapacity: 32) { out in
            func put(_ half: UInt64, at offset: Int) {
                for digit in 0..<16 {
                    out[offset + digit] = hexDigits[Int((half >> (60 - 4 * UInt64(digit))) & 0xF)]
                }
            }
            put(prefix, at: 0)
            put(value, at: 16)
            return 32
        }
    }
}
