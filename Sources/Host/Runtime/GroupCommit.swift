import Foundation
import GRDB

/// Group commit for write requests. SQLite has one writer; instead of one transaction per
/// request, the requests that queue up while the writer is busy run together in one
/// transaction, each inside its own savepoint, and the batch commits once.
///
/// Every request keeps its own atomicity (a failed request rolls back to its savepoint and the
/// others go on), sees the writes of the requests before it (the batch runs them in arrival
/// order, as a serial writer would), and gets its answer only after the commit, so an answer
/// never reports a write that could still vanish. When the commit itself fails, every request of
/// the batch fails. Under light load a batch holds one request and nothing waits.
final class GroupCommit: @unchecked Sendable {
    /// What one request did inside its savepoint, and whether to keep it.
    struct Outcome {
        let response: HostResponse
        let events: [PendingEvent]
        let keep: Bool
    }

    typealias Work = (Database) -> Outcome

    private struct Job {
        let work: Work
        let continuation: CheckedContinuation<Outcome, Error>
    }

    /// Large enough to amortise the commit, small enough that the first request of a batch does
    /// not wait long for the last.
    static let maximumBatch = 128

    private let pool: DatabasePool
    /// Receives the events of each committed batch in commit order, before any request answers.
    private let publish: ([PendingEvent]) -> Void
    private let lock = NSLock()
    private var queue: [Job] = []
    private var isDraining = false

    init(pool: DatabasePool, publish: @escaping ([PendingEvent]) -> Void) {
        self.pool = pool
        self.publish = publish
    }

    /// Runs `work` in the next batch and returns its outcome once the batch has committed. A kept
    /// outcome's events are already published when this returns.
    func submit(_ work: @escaping Work) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            queue.append(Job(work: work, continuation: continuation))
            let startDraining = !isDraining
            isDraining = true
            lock.unlock()
            if startDraining {
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while let batch = nextBatch() {
            do {
                let results = try await pool.writeWithoutTransaction { db in try Self.run(batch, in: db) }
                publish(results.flatMap { $0.keep ? $0.events : [] })
                for (job, outcome) in zip(batch, results) {
                    job.continuation.resume(returning: outcome)
                }
            } catch {
                for job in batch {
                    job.continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Takes up to `maximumBatch` queued jobs, or ends the draining when none is left.
    private func nextBatch() -> [Job]? {
        lock.lock()
        defer { lock.unlock() }
        guard !queue.isEmpty else {
            isDraining = false
            return nil
        }
        let count = min(queue.count, Self.maximumBatch)
        let batch = Array(queue.prefix(count))
        queue.removeFirst(count)
        return batch
    }

    struct BatchAborted: Error, CustomStringConvertible {
        var description: String { "SQLite rolled back the batch's transaction" }
    }

    /// Runs `work` in a savepoint, released when its outcome is kept and rolled back otherwise.
    /// The three statements are prepared once per connection (GRDB's `inSavepoint` parses them
    /// on every call, which is measurable at thousands of requests a second).
    private static func inRequestSavepoint(_ db: Database, _ work: () -> Outcome) throws -> Outcome {
        try db.cachedStatement(sql: "SAVEPOINT request").execute()
        let outcome = work()
        if !outcome.keep {
            try db.cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT request").execute()
        }
        try db.cachedStatement(sql: "RELEASE SAVEPOINT request").execute()
        return outcome
    }

    private static func run(_ batch: [Job], in db: Database) throws -> [Outcome] {
        var results: [Outcome] = []
        results.reserveCapacity(batch.count)
        try db.inTransaction(.immediate) {
            for job in batch {
                // A failing SAVEPOINT, ROLLBACK TO or RELEASE leaves the batch in an unknown
                // state: it throws out of the transaction, and every request of the batch fails.
                results.append(try inRequestSavepoint(db) { job.work(db) })
                // Some SQLite errors (disk full, I/O) inside a request roll back the whole transaction. The writes of
                // the requests before this one are gone with it: fail the whole batch.
                guard db.isInsideTransaction else { throw BatchAborted() }
            }
            return .commit
        }
        return results
    }
}
