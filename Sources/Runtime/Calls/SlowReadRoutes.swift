import Foundation
import Logging

/// Which read routes run their storage read on the calling thread. A read route starts there:
/// the handler thread is an event loop, and a short read costs less than the hop to a reader
/// thread and back. A route one of whose reads took longer than `threshold` (`[host]
/// slow_read_ms`; recomputing the
/// ledger's hash chain, a long history) is moved off for the rest of the process, so it never
/// holds an event loop, and the other connections on it, for that long again.
// Sendable: `lock` guards `slow`.
final class SlowReadRoutes: @unchecked Sendable {
    let threshold: Duration
    private let lock = NSLock()
    private var slow: Set<String> = []

    init(threshold: Duration) {
        self.threshold = threshold
    }

    func runsOnCallingThread(_ route: String) -> Bool {
        lock.withLock { !slow.contains(route) }
    }

    /// Records how long one of `route`'s reads took on the calling thread.
    func record(_ route: String, took elapsed: Duration, logger: Logger) {
        guard elapsed > threshold else { return }
        let added = lock.withLock { slow.insert(route).inserted }
        if added {
            logger.notice("a read of \(route) took \(elapsed.formatted(.units(allowed: [.milliseconds]))) on an event loop: its reads run on reader threads from now on")
        }
    }

    /// The routes moved off the calling thread so far.
    var moved: Set<String> { lock.withLock { slow } }
}
