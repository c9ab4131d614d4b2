import Atomics
import Foundation
import GRDB
import NIOCore
import NIOPosix

/// Read-only connections for reads that run on the calling thread (an event loop): one per thread
/// that asks, kept for the store's lifetime, each used only by its thread.
///
/// Why not the pool's readers: `DatabasePool.read` costs ≈ 20 µs before the first query on this
/// machine (`stelltron-bench reads`) — the pool's checkout (a barrier queue, a semaphore, a
/// dispatch group and a key path built anew on every call, 14 % of that benchmark's samples in
/// `perf`), GRDB's `PRAGMA schema_version` check and its transaction bookkeeping. Here a read is
/// `BEGIN DEFERRED` and `COMMIT` as prepared statements around the body on a connection the
/// thread already holds: one snapshot for the whole call, as the pool gives.
///
/// On an event loop, a read's snapshot is kept open after it ends and reused by the loop's next
/// read while this process has committed nothing since (`writeGeneration` unchanged) and it is
/// younger than `keep`: such a read sees exactly what a fresh snapshot would, without `BEGIN`,
/// `COMMIT` and SQLite's WAL read lock — whose mutex every reader connection of the process shares,
/// the futex calls of a plugin read (BENCHMARKS.md, issue 16, tenth session). A commit by another
/// process (`stelltron call` beside `serve`) shows within `keep`. A kept snapshot no read reused
/// ends on the loop after `keep`, so that checkpoints can always reset the WAL. Elsewhere (a
/// cooperative-pool thread, which may end) each read ends its own snapshot.
///
/// GRDB's schema cache is not refreshed between reads: the schema changes only while the runtime
/// loads (migrations), before any request, and SQLite re-prepares a statement whose schema moved.
// Sendable: `lock` guards `opened`; a connection is used by its own thread only.
final class CallingThreadReaders: @unchecked Sendable {
    /// One thread's connections, by the `CallingThreadReaders` that opened them: found without a
    /// lock, because the two event loops read at once and a shared lock made them wait on each
    /// other (a few per cent of the futex calls `perf` traced on a plugin read).
    ///
    /// Weak: a thread's end runs this value's deinit among the thread-specific destructors, after
    /// libdispatch has cleaned up its own; a connection released there closes through its
    /// dispatch queue, and libdispatch freed its per-thread cache twice (AddressSanitizer: a
    /// double free in `_dispatch_cache_cleanup`, the test process's heap corruption under load).
    /// `opened` owns the connections; they close with the store, on its thread.
    private final class ThisThread: @unchecked Sendable {
        var readers: [Int: Reader] = [:]
    }

    private static let thisThread = ThreadSpecificVariable<ThisThread>()
    private static let nextID = ManagedAtomic<Int>(0)

    /// How long a snapshot is kept for the next read (see above).
    static let keep = TimeAmount.milliseconds(20)

    private let id = CallingThreadReaders.nextID.loadThenWrappingIncrement(ordering: .relaxed)
    private let path: String
    private let configuration: Configuration
    /// Bumped by the store after each of its write transactions ends (`Store.wrote`).
    private let writeGeneration: ManagedAtomic<UInt64>
    private let lock = NSLock()
    /// Every connection opened, to close them with the store.
    private var opened: [DatabaseQueue] = []

    init(path: String, busyTimeout: TimeInterval, writeGeneration: ManagedAtomic<UInt64>) {
        self.path = path
        self.writeGeneration = writeGeneration
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "stelltron.calling-thread-reader"
        // A kept snapshot is a read transaction open between two accesses, on purpose.
        configuration.allowsUnsafeTransactions = true
        self.configuration = configuration
    }

    /// Runs `body` in a read transaction on this thread's connection, opened on first use.
    func read<Answer>(_ body: (Database) throws -> Answer) throws -> Answer {
        let (reader, connection) = try reader()
        return try connection.inDatabase { db in
            try reader.begin(db, generation: writeGeneration.load(ordering: .acquiring))
            let answer: Answer
            do {
                answer = try body(db)
            } catch {
                reader.rollBack(db)
                throw error
            }
            if reader.loop == nil { try reader.commit(db) } else { reader.keepUntilExpiry() }
            return answer
        }
    }

    /// Closes every connection (the store is going). A thread that read keeps its entry, emptied,
    /// until it ends: a store goes with the process, or in tests.
    func closeAll() {
        let closing = lock.withLock { () -> [DatabaseQueue] in
            defer { opened.removeAll() }
            return opened
        }
        for connection in closing { try? connection.close() }
    }

    /// This thread's reader and its connection, held for one read.
    private func reader() throws -> (Reader, DatabaseQueue) {
        let thread: ThisThread
        if let known = Self.thisThread.currentValue {
            thread = known
        } else {
            thread = ThisThread()
            Self.thisThread.currentValue = thread
        }
        if let reader = thread.readers[id], let connection = reader.connection { return (reader, connection) }
        let connection = try DatabaseQueue(path: path, configuration: configuration)
        let reader = Reader(connection: connection, loop: MultiThreadedEventLoopGroup.currentEventLoop)
        thread.readers[id] = reader
        lock.withLock { opened.append(connection) }
        return (reader, connection)
    }
}

/// One thread's reader connection of one store, and the snapshot it keeps open between reads.
// Sendable: used by its own thread only (the expiry runs on the same event loop).
private final class Reader: @unchecked Sendable {
    /// Weak: see `CallingThreadReaders.ThisThread`.
    weak var connection: DatabaseQueue?
    /// The event loop this thread runs, where snapshots are kept; nil elsewhere.
    let loop: (any EventLoop)?
    /// The write generation the open snapshot began under, and when it began; nil when none is open.
    private var kept: (generation: UInt64, since: NIODeadline)?
    private var expiryPending = false

    init(connection: DatabaseQueue, loop: (any EventLoop)?) {
        self.connection = connection
        self.loop = loop
    }

    /// Reuses the kept snapshot when nothing was committed since it began and it is young enough;
    /// otherwise ends it and begins a new one (SQLite takes it at the first statement).
    func begin(_ db: Database, generation: UInt64) throws {
        let now = NIODeadline.now()
        if let kept, kept.generation == generation, now - kept.since < CallingThreadReaders.keep, db.isInsideTransaction { return }
        if db.isInsideTransaction { try commit(db) }
        try db.cachedStatement(sql: "BEGIN DEFERRED TRANSACTION").execute()
        kept = (generation, now)
    }

    func commit(_ db: Database) throws {
        kept = nil
        try db.cachedStatement(sql: "COMMIT").execute()
    }

    /// After a read that failed: nothing of its snapshot is kept.
    func rollBack(_ db: Database) {
        kept = nil
        if db.isInsideTransaction { try? db.cachedStatement(sql: "ROLLBACK").execute() }
    }

    /// Ends the kept snapshot on the loop once it is `keep` old, unless a read ended it first. At
    /// most one expiry is pending; one that finds a younger snapshot waits for that one's age.
    func keepUntilExpiry() {
        guard let loop, let since = kept?.since, !expiryPending else { return }
        expiryPending = true
        loop.scheduleTask(deadline: since + CallingThreadReaders.keep) { [weak self] in self?.expire() }
    }

    private func expire() {
        expiryPending = false
        guard let since = kept?.since, let connection else { return }
        if NIODeadline.now() - since < CallingThreadReaders.keep { return keepUntilExpiry() }
        connection.inDatabase { db in if db.isInsideTransaction { try? commit(db) } else { kept = nil } }
    }
}
