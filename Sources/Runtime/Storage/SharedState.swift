import Foundation
import Logging

/// Per-client rate limits kept where every replica sees them, so that a client spreading its
/// requests over N replicas gets the same limit as on one. On SQLite there is one process and its
/// memory is the right place (`StorageEngine.makeSharedRateLimits` answers nil).
public protocol SharedRateLimits: Sendable {
    /// GCRA on the key's theoretical arrival time: admits a request at `now` (seconds since 1970)
    /// when that time is at most `tolerance` ahead, moving it `interval` on. Answers nil when
    /// admitted, else the seconds until the next request would be.
    func admit(_ key: String, now: Double, interval: Double, tolerance: Double) async throws -> Double?
}

/// Periodic work (plugin ticks: loan liquidation, matching leftovers, the ledger's checkpoint)
/// runs on one replica at a time. The lease is held for as long as the holder lives and moves to
/// another replica when it dies. On SQLite the one process always holds it (`nil`).
public protocol PeriodicWorkLease: Sendable {
    /// True while this host holds the lease; tries to take it when nobody does.
    func isHeld() async -> Bool
    /// Gives the lease up (shutdown).
    func release()
}
