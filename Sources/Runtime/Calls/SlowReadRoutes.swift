import Atomics
import Foundation
import Logging

/// Which read routes run their storage read on the calling thread. A read route starts there:
/// the handler thread is an event loop, and a short read costs less than the hop to a reader
/// thread and back. A route whose reads take longer than `[host] slow_read_ms` on
/// average — recomputing the ledger's hash chain, a long history — is moved off for the rest of
/// the process, so it does not hold an event loop, and the other connections on it, again.
///
/// The average is exponential (each read weighs 1/16), not a single read: a route's first reads
/// on each reader connection prepare their statements and find cold pages, and once-slow would
/// move every route off at start (seen in `make bench`). One read of 16× the threshold still
/// moves its route at once.
///
/// A read's time is its thread's CPU time, not the wall clock's: with several loops per core
/// (`[host] event_loops`), or anything else busy on the machine, a loop is often descheduled in
/// the middle of a read, and wall-clock averages moved `/iot/nodes` off its loop within seconds
/// of wrk (2.6 ms on average for a read of ≈ 0.05 ms). The price: a read that blocks without
/// using the CPU (a cold page from disk) does not count.
///
/// That clock is a system call here (the vDSO serves only the wall clocks): two per read were
/// 2 % of a one-query read's samples. So a route's first read and then one in
/// `sampleInterval` are timed, and the average is theirs: a route whose reads are slow is still
/// moved (at its first read already when that read is 16× over), while a rare slow read among
/// fast ones may go unseen, which the average would have smoothed away anyway.
///
/// Every read route has its own atomics, made at load, and no lock: the event loops ask and
/// record on every read, and a shared lock here was one of the futexes `perf` counted per read.
final class SlowReadRoutes: Sendable {
    /// One read route's running average and whether it has moved.
    private final class Timing: Sendable {
        /// The average in milliseconds, as the bits of a `Double`.
        let averageBits = ManagedAtomic<UInt64>(0)
        let moved = ManagedAtomic<Bool>(false)
        /// Reads started on the calling thread, to time one in `sampleInterval`.
        let reads = ManagedAtomic<UInt32>(0)
    }

    /// One read in this many is timed: one in 8 still cost 0.4 µs a read (`perf`, BENCHMARKS.md,
    /// issue 16, sixteenth session), and a slow route's reads are slow again and again.
    static let sampleInterval: UInt32 = 32

    private let thresholdMilliseconds: Double
    /// Route path → its timing; fixed at load, so reading it needs no lock.
    private let timings: [String: Timing]

    init(readRoutes: [String], thresholdMilliseconds: Int) {
        self.thresholdMilliseconds = Double(thresholdMilliseconds)
        timings = Dictionary(readRoutes.map { ($0, Timing()) }, uniquingKeysWith: { first, _ in first })
    }

    /// Whether a read of `route` runs on the calling thread, and if so whether it is timed.
    func callingThreadRead(_ route: String) -> (onCallingThread: Bool, timed: Bool) {
        guard let timing = timings[route], !timing.moved.load(ordering: .relaxed) else { return (false, false) }
        let started = timing.reads.loadThenWrappingIncrement(ordering: .relaxed)
        return (true, started % Self.sampleInterval == 0)
    }

    /// Records how long one of `route`'s reads took on the calling thread.
    func record(_ route: String, took elapsed: Duration, logger: Logger) {
        guard let timing = timings[route] else { return }
        let milliseconds = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
        var seen = timing.averageBits.load(ordering: .relaxed)
        var average: Double
        while true {
            average = Double(bitPattern: seen) * 15 / 16 + milliseconds / 16
            let (stored, current) = timing.averageBits.compareExchange(expected: seen, desired: average.bitPattern, ordering: .relaxed)
            if stored { break }
            seen = current
        }
        if average > thresholdMilliseconds, !timing.moved.exchange(true, ordering: .relaxed) {
            logger.notice("reads of \(route) average \(String(format: "%.1f", average)) ms on an event loop: they run on reader threads from now on")
        }
    }

    /// The calling thread's CPU time so far (`CLOCK_THREAD_CPUTIME_ID`).
    static func threadCPUTime() -> Duration {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return .seconds(time.tv_sec) + .nanoseconds(time.tv_nsec)
    }

    /// The routes moved off the calling thread so far.
    var moved: Set<String> { Set(timings.filter { $0.value.moved.load(ordering: .relaxed) }.keys) }

    /// Whether `route`'s reads have moved off the calling thread; true for a route that is not a
    /// read route.
    func moved(_ route: String) -> Bool {
        timings[route]?.moved.load(ordering: .relaxed) ?? true
    }
}
