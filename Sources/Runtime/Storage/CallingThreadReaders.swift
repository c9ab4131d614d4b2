import Atomics
import Foundation
import GRDB
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
        struct Held {
            weak var connection: DatabaseQueue?
        }
        var connections: [Int: Held] = [:]
    }

    private static let thisThread = ThreadSpecificVariable<ThisThread>()
    private static let nextID = ManagedAtomic<Int>(0)

    private let id = CallingThreadReaders.nextID.loadThenWrappingIncrement(ordering: .relaxed)
    private let path: String
    private let configuration: Configuration
    private let lock = NSLock()
    /// Every connection opened, to close them with the store.
    private var opened: [DatabaseQueue] = []

    init(path: String, busyTimeout: TimeInterval) {
        self.path = path
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(busyTimeout)
        configuration.label = "stelltron.calling-thread-reader"
        self.configuration = configuration
    }

    /// Runs `body` in a read transaction on this thread's connection, opened on first use.
    func read<Answer>(_ body: (Database) throws -> Answer) throws -> Answer {
        try connection().inDatabase { db in
            try db.cachedStatement(sql: "BEGIN DEFERRED TRANSACTION").execute()
            let answer: Answer
            do {
                answer = try body(db)
            } catch {
                if db.isInsideTransaction { try? db.cachedStatement(sql: "ROLLBACK").execute() }
                throw error
            }
            try db.cachedStatement(sql: "COMMIT").execute()
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

    private func connection() throws -> DatabaseQueue {
        let thread: ThisThread
        if let known = Self.thisThread.currentValue {
            thread = known
        } else {
            thread = ThisThread()
            Self.thisThread.currentValue = thread
        }
        if let open = thread.connections[id]?.connection { return open }
        let connection = try DatabaseQueue(path: path, configuration: configuration)
        thread.connections[id] = .init(connection: connection)
        lock.withLock { opened.append(connection) }
        return connection
    }
}
