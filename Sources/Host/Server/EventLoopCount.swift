import NIOCore
import StelltronRuntime

/// How many event loops serve HTTP: `[host] event_loops`, or three per core when that is 0.
///
/// Why more loops than cores: a loop with work to do never blocks, so whenever something else on
/// the machine wakes up (nginx in front, PostgreSQL beside, the load generator of a benchmark),
/// the kernel preempts a loop in the middle of its requests, and every connection of that loop
/// waits. On 2 cores shared with wrk, two loops were preempted 0.5–0.6 times per request, six
/// loops 0.04–0.2 times; the constant route got 1.1–1.3× faster, plugin reads and pings 1.0–1.3×
/// depending on the run (BENCHMARKS.md, issue 16, seventh session). On a machine that runs
/// nothing else, the core count is the classic choice: set it.
public enum EventLoopCount {
    public static func resolve(_ configured: Int, cores: Int = System.coreCount) -> Int {
        configured > 0 ? configured : 3 * cores
    }

    /// Sizes NIO's shared event-loop group, which Hummingbird serves on. Call once, before
    /// anything uses the group: its size is fixed at first use.
    @discardableResult
    public static func install(for configuration: HostConfiguration) -> Int {
        let count = resolve(configuration.eventLoops)
        NIOSingletons.groupLoopCountSuggestion = count
        return count
    }
}
