import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// The host's storage on PostgreSQL (postgres-nio), for several replicas on one database.
///
/// **Writes are serialised across every replica** by one transaction-scoped advisory lock, taken
/// first in each write transaction (a group-commit batch, a migration, a sign-in): the database
/// then runs write transactions one after the other, as SQLite's single writer does, so every
/// guarantee the plugins were written for holds unchanged — a stake is unstaked once, a balance
/// never overdrawn, a `report_id` minted once — with no retry logic and no plugin knowing about
/// replicas. It also makes event ids, taken under the lock, increase in commit order, which
/// `Last-Event-ID` replay needs. Reads are `REPEATABLE READ READ ONLY` snapshots and never wait
/// for the lock. README, "Running several replicas", says what this costs and where it stops.
///
/// Plugin calls are synchronous, so each transaction runs on one of the engine's threads with
/// one connection of its own, waiting for each statement's answer there.
public final class PostgresEngine: StorageEngine, @unchecked Sendable {
    // Sendable: the pool and the statement cache guard themselves; the rest is immutable.
    let location: PostgresLocation
    private let connections: PostgresConnectionPool
    private let statements = PostgresStatements()
    private let threads: NIOThreadPool
    private let logger: Logger

    /// Transactions running at once on one replica (reads; writes queue for the lock anyway).
    static let threadCount = 16

    /// A read scope: every statement sees one snapshot, and writes are refused.
    static let beginSnapshot = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

    /// The write lock's first key; the second is the schema's hash, so that hosts on separate
    /// schemas of one database (the tests) do not wait for each other.
    static let writeLockClass = 0x5354_4C54  // "STLT"

    public init(url: String, logger: Logger = Logger(label: "stelltron.postgres")) throws {
        location = try PostgresLocation(url)
        self.logger = logger
        connections = PostgresConnectionPool(configuration: location.configuration, logger: logger)
        threads = NIOThreadPool(numberOfThreads: Self.threadCount)
        threads.start()
        // Should this throw, the engine is fully initialised and its deinit closes what it opened.
        try prepareDatabase()
    }

    deinit {
        close()
    }

    private func close() {
        connections.closeAll()
        threads.shutdownGracefully { _ in }
    }

    /// The schema (for the tests' private ones) and the migrations table, under the write lock: any
    /// number of replicas may start together on an empty database.
    private func prepareDatabase() throws {
        if let schema = location.schema {
            let connection = try connections.checkOut()
            let session = PostgresSession(connection: connection, dialect: statements, logger: logger)
            defer { connections.checkIn(connection, healthy: session.isInsideTransaction) }
            do {
                try session.send("CREATE SCHEMA IF NOT EXISTS \(schema)")
            } catch let failure as StorageFailure where failure.sqlState == "23505" {
                // Two hosts created it at the same moment: it exists.
            }
        }
        try writeTransactionNow { session in
            try session.run("""
                CREATE TABLE IF NOT EXISTS host_migrations (
                    plugin_id TEXT NOT NULL,
                    migration_id TEXT NOT NULL,
                    applied_at TEXT NOT NULL,
                    checksum TEXT,
                    PRIMARY KEY (plugin_id, migration_id)
                )
                """)
            // What replicas share beside the plugins' tables: committed events (PostgresEventJournal)
            // and the per-address rate limit (PostgresRateLimits).
            try session.run("""
                CREATE TABLE IF NOT EXISTS host_events (
                    id BIGINT PRIMARY KEY,
                    type TEXT NOT NULL,
                    frame TEXT NOT NULL,
                    created_ms BIGINT NOT NULL
                )
                """)
            try session.run("""
                CREATE TABLE IF NOT EXISTS host_rate_limits (
                    key TEXT PRIMARY KEY,
                    arrival DOUBLE PRECISION NOT NULL
                )
                """)
        }
        _ = try Migrations.apply(HostSchema.migrations, plugin: "host", file: location.redacted, engine: self)
    }

    public func read<Answer>(_ body: @escaping (StorageSession) throws -> Answer) async throws -> Answer {
        // `body` runs once, on the thread the pool picks; its answer comes back to this task alone.
        let handed = Handoff(body)
        return try await threads.runIfActive {
            Handoff(try self.transaction(Self.beginSnapshot, locked: false) { try handed.value($0) })
        }.value
    }

    public func writeTransaction<Answer>(_ body: @escaping (StorageSession) throws -> Answer) async throws -> Answer {
        let handed = Handoff(body)
        return try await threads.runIfActive {
            Handoff(try self.transaction("BEGIN", locked: true) { try handed.value($0) })
        }.value
    }

    public func writeTransactionNow<Answer>(_ body: (StorageSession) throws -> Answer) throws -> Answer {
        try transaction("BEGIN", locked: true, body)
    }

    public func makeEventJournal(hub: EventHub, keep: Int, logger: Logger) throws -> (any EventJournal)? {
        try PostgresEventJournal(engine: self, hub: hub, keep: keep, logger: logger)
    }

    public func releaseIdleConnections() {
        connections.closeIdle()
    }

    public func makeSharedRateLimits(logger: Logger) -> (any SharedRateLimits)? {
        PostgresRateLimits(engine: self, logger: logger)
    }

    public func makePeriodicWorkLease(logger: Logger) -> (any PeriodicWorkLease)? {
        PostgresTickLease(engine: self, logger: logger)
    }

    /// Statements outside any transaction, each committed on its own (the shared rate limits):
    /// they never wait for the write lock.
    func autocommit<Answer: Sendable>(_ body: @escaping @Sendable (PostgresSession) throws -> Answer) async throws -> Answer {
        try await threads.runIfActive {
            let connection = try self.connections.checkOut()
            let session = PostgresSession(connection: connection, dialect: self.statements, logger: self.logger)
            defer { self.connections.checkIn(connection, healthy: session.isInsideTransaction) }
            return try body(session)
        }
    }

    /// A read snapshot on the calling thread (loading only: it waits for the database).
    func readNow<Answer>(_ body: (PostgresSession) throws -> Answer) throws -> Answer {
        try transaction(Self.beginSnapshot, locked: false) { try body($0 as! PostgresSession) }
    }

    /// A connection of its own, outside the pool (the event listener's, the tick lease's).
    func openConnection() async throws -> PostgresConnection {
        try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: location.configuration,
                                             id: Int.random(in: 1_000_000...9_999_999), logger: logger).get()
    }

    /// One transaction on a connection of its own: committed when `body` returns, rolled back
    /// when it throws. A connection whose transaction could not be ended is closed, not reused.
    private func transaction<Answer>(_ begin: String, locked: Bool, _ body: (StorageSession) throws -> Answer) throws -> Answer {
        let connection = try connections.checkOut()
        let session = PostgresSession(connection: connection, dialect: statements, logger: logger)
        var healthy = false
        defer { connections.checkIn(connection, healthy: healthy) }
        do {
            try session.send(begin)
            if locked {
                try session.send("SELECT pg_advisory_xact_lock(\(Self.writeLockClass), hashtext(current_schema()))")
            }
            let answer = try body(session)
            try session.send("COMMIT")
            healthy = true
            return answer
        } catch {
            if session.isInsideTransaction, (try? session.send("ROLLBACK", evenIfAborted: true)) != nil {
                healthy = true
            }
            throw error
        }
    }
}

/// Idle connections, opened on demand and reused; a broken one is closed and replaced.
// Sendable: `lock` guards `idle` and `nextID`.
final class PostgresConnectionPool: @unchecked Sendable {
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let lock = NSLock()
    private var idle: [PostgresConnection] = []
    private var nextID = 0
    private var isClosed = false

    init(configuration: PostgresConnection.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Waits for the connection when a new one is needed: call it off the event loops.
    func checkOut() throws -> PostgresConnection {
        while let connection = lock.withLock({ idle.popLast() }) {
            if !connection.isClosed { return connection }
            Self.release(connection)
        }
        let id = lock.withLock { nextID += 1; return nextID }
        do {
            return try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                                                  id: id, logger: logger).wait()
        } catch let error as PSQLError {
            throw StoreError(message: "could not connect to PostgreSQL: \(error.serverInfo?[.message] ?? "\(error.code)")")
        } catch {
            throw StoreError(message: "could not connect to PostgreSQL: \(error)")
        }
    }

    func checkIn(_ connection: PostgresConnection, healthy: Bool) {
        let kept = healthy && !connection.isClosed && lock.withLock {
            guard !isClosed else { return false }
            idle.append(connection)
            return true
        }
        if !kept { Self.release(connection) }
    }

    func closeAll() {
        lock.withLock { isClosed = true }
        closeIdle()
    }

    func closeIdle() {
        let closing = lock.withLock {
            defer { idle.removeAll() }
            return idle
        }
        closing.forEach(Self.release)
    }

    /// Closes without waiting (this may run on an event loop); the future keeps the connection
    /// alive until it is closed.
    private static func release(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in _ = connection }
    }
}
