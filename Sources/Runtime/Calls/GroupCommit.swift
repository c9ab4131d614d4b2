import Foundation

/// Group commit for every call that writes. SQLite has one writer (and replicas on PostgreSQL
/// share one write lock, `PostgresEngine`); instead of one transaction per
/// call, the calls that queue up while the writer is busy run together in one transaction, each
/// inside its own savepoint, and the batch commits once.
///
/// Every call keeps its own atomicity (a failed call rolls back to its savepoint and the others
/// go on), sees the writes of the calls before it (the batch runs them in arrival order, as a
/// serial writer would), and gets its answer only after the commit, so an answer never reports a
/// write that could still vanish. When the commit itself fails, every call of the batch fails.
/// Under light load a batch holds one call and nothing waits.
// Sendable: `lock` guards the queue and `isDraining`; one drain task at a time runs batches.
final class GroupCommit: @unchecked Sendable {
    /// What one call did inside its savepoint: its answer (type-erased so routes, services and
    /// ticks share the queue), its events, and whether to keep them.
    struct Outcome {
        let answer: Any
        let events: [PendingEvent]
        let keep: Bool
    }

    typealias Work = (StorageSession) -> Outcome

    private struct Job {
        let work: Work
        /// Each outcome goes back to the one caller that waits for it.
        let complete: (Result<Outcome, Error>) -> Void
    }

    /// Large enough to amortise the commit, small enough that the first call of a batch does not
    /// wait long for the last.
    static let maximumBatch = 128

    private let engine: StorageEngine
    private let metrics: CallMetrics
    /// Receives the events of each committed batch in commit order, before any call answers: the
    /// only place committed events leave the runtime (with no journal).
    private let publish: ([PendingEvent]) -> Void
    /// With replicas on one database, events are recorded in the batch's transaction instead and
    /// come out of the journal, numbered in commit order across replicas.
    private let journal: (any EventJournal)?
    private let clock: @Sendable () -> Date
    private let lock = NSLock()
    private var queue: [Job] = []
    private var isDraining = false

    init(engine: StorageEngine, metrics: CallMetrics, journal: (any EventJournal)?, clock: @escaping @Sendable () -> Date,
         publish: @escaping ([PendingEvent]) -> Void) {
        self.engine = engine
        self.metrics = metrics
        self.journal = journal
        self.clock = clock
        self.publish = publish
    }

    /// Runs `work` in the next batch and returns its outcome once the batch has committed. A kept
    /// outcome's events are already published when this returns.
    func submit(_ work: @escaping Work) async throws -> Outcome {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Handoff<Outcome>, Error>) in
            submit(work) { outcome in continuation.resume(with: outcome.map(Handoff.init)) }
        }.value
    }

    /// `submit` for a caller that is not a task (an event loop answering a request itself):
    /// `complete` gets the outcome on the batch's drain task, after the commit.
    func submit(_ work: @escaping Work, then complete: @escaping (Result<Outcome, Error>) -> Void) {
        lock.lock()
        queue.append(Job(work: work, complete: complete))
        let startDraining = !isDraining
        isDraining = true
        lock.unlock()
        if startDraining {
            Task { await self.drain() }
        }
    }

    /// Runs `work` as a batch of its own, synchronously, and publishes its events after the commit:
    /// the same rules as `submit`, for plugin creation while the runtime loads (nothing else can
    /// be queued yet).
    func runAlone(_ work: Work) throws -> Outcome {
        let (outcomes, recorded) = try withoutActuallyEscaping(work) { work in
            try engine.writeTransactionNow { session in try self.runAndRecord([work], in: session) }
        }
        if let journal {
            // Loading waits for nothing: the batch's events go out shortly, in id order.
            if let recorded { Task { await journal.publish(recorded) } }
        } else {
            publish(Self.kept(outcomes))
        }
        return outcomes[0]
    }

    private func drain() async {
        while let batch = nextBatch() {
            do {
                // The batch's closures leave the queue for the writer, which alone runs them; their
                // outcomes come back to this task only.
                let works = batch.map(\.work)
                metrics.batchSize.record(works.count)
                let start = DispatchTime.now().uptimeNanoseconds
                let (results, recorded) = try await engine.writeTransaction { session in try self.runAndRecord(works, in: session) }
                metrics.commitDuration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
                if let journal {
                    await journal.publish(recorded ?? [])
                } else {
                    publish(Self.kept(results))
                }
                for (job, outcome) in zip(batch, results) {
                    job.complete(.success(outcome))
                }
            } catch {
                metrics.storageErrors.increment()
                for job in batch {
                    job.complete(.failure(error))
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
        var description: String { "the database rolled back the batch's transaction" }
    }

    /// Runs the batch and, with a journal, records its kept events in the same transaction.
    private func runAndRecord(_ batch: [Work], in session: StorageSession) throws -> ([Outcome], [HubEvent]?) {
        let outcomes = try Self.run(batch, in: session)
        guard let journal else { return (outcomes, nil) }
        let now = clock()
        let events = Self.kept(outcomes).map {
            RecordedEvent(type: $0.type, frame: EventHub.frame(type: $0.type, payloadJSON: $0.payloadJSON, at: now))
        }
        return (outcomes, try journal.record(events, in: session))
    }

    /// The events of the calls that keep their work, in call order.
    private static func kept(_ outcomes: [Outcome]) -> [PendingEvent] {
        outcomes.flatMap { $0.keep ? $0.events : [] }
    }

    private static func run(_ batch: [Work], in session: StorageSession) throws -> [Outcome] {
        var results: [Outcome] = []
        results.reserveCapacity(batch.count)
        for work in batch {
            // A failing savepoint statement leaves the batch in an unknown state: it throws out
            // of the transaction, and every call of the batch fails.
            let scoped = try Savepoint.run(session, named: "request") {
                let outcome = work(session)
                return ScopedAnswer(answer: outcome, keep: outcome.keep)
            }
            results.append(scoped.answer)
            // Some errors (disk full, I/O) inside a call roll back the whole transaction. The
            // writes of the calls before this one are gone with it: fail the whole batch.
            guard session.isInsideTransaction else { throw BatchAborted() }
        }
        return results
    }
}
