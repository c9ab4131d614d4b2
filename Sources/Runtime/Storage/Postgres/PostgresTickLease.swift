import Foundation
import Logging
import PostgresNIO

/// `PeriodicWorkLease` as a session-level advisory lock on a connection of its own: held while
/// that connection lives. When the holding replica dies (even by SIGKILL) PostgreSQL ends its
/// session and drops the lock, and the next replica to ask takes it.
final class PostgresTickLease: PeriodicWorkLease, @unchecked Sendable {
    // Sendable: `lock` guards `connection` and `held`.
    private let engine: PostgresEngine
    private let logger: Logger
    private let lock = NSLock()
    private var connection: PostgresConnection?
    private var held = false

    /// The lease's first key; the second is the schema's hash, as for the write lock.
    static let leaseClass = PostgresEngine.writeLockClass + 1

    init(engine: PostgresEngine, logger: Logger) {
        self.engine = engine
        self.logger = logger
    }

    deinit {
        release()
    }

    func isHeld() async -> Bool {
        let (current, wasHeld) = lock.withLock { (connection, held) }
        if let current, !current.isClosed, wasHeld { return true }
        if wasHeld { logger.warning("lost the periodic-work lease (its connection closed)") }
        do {
            let open: PostgresConnection
            if let current, !current.isClosed {
                open = current
            } else {
                open = try await engine.openConnection()
            }
            let answer = try await open.query(PostgresQuery(unsafeSQL: "SELECT pg_try_advisory_lock(\(Self.leaseClass), hashtext(current_schema()))"),
                                              logger: logger).get()
            let taken = try answer.rows.first?.makeRandomAccess()[0].decode(Bool.self) ?? false
            lock.withLock {
                connection = open
                held = taken
            }
            if current !== open, let current { try? await current.close() }
            if taken { logger.info("this replica holds the periodic-work lease: it runs the plugins' ticks") }
            return taken
        } catch {
            lock.withLock { held = false }
            logger.warning("could not ask for the periodic-work lease", metadata: ["error": .string(String(reflecting: error))])
            return false
        }
    }

    func release() {
        let closing: PostgresConnection? = lock.withLock {
            held = false
            defer { connection = nil }
            return connection
        }
        if let closing { closing.close().whenComplete { _ in _ = closing } }
    }
}
