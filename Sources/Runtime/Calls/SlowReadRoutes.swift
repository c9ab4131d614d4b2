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
// Sendable: `lock` guards the tables.
final class SlowReadRoutes: @unchecked Sendable {
    private let thresholdMilliseconds: Double
    private let lock = NSLock()
    private var averageMilliseconds: [String: Double] = [:]
    private var slow: Set<String> = []

    init(thresholdMilliseconds: Int) {
        self.thresholdMilliseconds = Double(thresholdMilliseconds)
    }

    func runsOnCallingThread(_ route: String) -> Bool {
        lock.withLock { !slow.contains(route) }
    }

    /// Records how long one of `route`'s reads took on the calling thread.
    func record(_ route: String, took elapsed: Duration, logger: Logger) {
        let milliseconds = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
        let (average, moved) = lock.withLock { () -> (Double, Bool) in
            let average = (averageMilliseconds[route] ?? 0) * 15 / 16 + milliseconds / 16
            averageMilliseconds[route] = average
            return (average, average > thresholdMilliseconds && slow.insert(route).inserted)
        }
        if moved {
            logger.notice("reads of \(route) average \(String(format: "%.1f", average)) ms on an event loop: they run on reader threads from now on")
        }
    }

    /// The routes moved off the calling thread so far.
    var moved: Set<String> { lock.withLock { slow } }
}
