import Atomics

/// Request ids for the requests an event loop answers itself (`InlineRequests`), written as
/// Hummingbird's `RequestID` writes the router's: a random prefix of this process in hex, then a
/// counter in sixteen hex digits. Their own prefix and counter: the router's are internal to
/// Hummingbird, and its `description` pads and joins three strings, 1.4 % of `/health`
/// (`perf`; BENCHMARKS.md, issue 16, sixteenth session).
enum InlineRequestID {
    private static let prefix = Array(String(UInt64.random(in: .min ... .max), radix: 16).utf8)
    private static let counter = ManagedAtomic<UInt64>(UInt64.random(in: .min ... .max))
    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func next() -> String {
        let value = counter.loadThenWrappingIncrement(ordering: .relaxed)
        return String(unsafeUninitializedCapacity: prefix.count + 16) { out in
            for (index, byte) in prefix.enumerated() { out[index] = byte }
            for digit in 0..<16 {
                out[prefix.count + digit] = hexDigits[Int((value >> (60 - 4 * UInt64(digit))) & 0xF)]
            }
            return prefix.count + 16
        }
    }
}
