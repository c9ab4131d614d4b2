import Foundation
import GRDB
import Logging

/// `StorageSession` on a GRDB connection: statements are prepared once per connection (plugins run
/// the same few over and over) and parameters are bound through SQLite's C API (`SQLBridge`).
final class SQLiteSession: StorageSession {
    let db: Database

    init(_ db: Database) {
        self.db = db
    }

    func query(_ sql: String, parametersJSON: Data) throws -> Data {
        try Self.mapped {
            let statement = try db.cachedStatement(sql: sql)
            try SQLBridge.bind(parametersJSON: parametersJSON, to: statement)
            return try SQLBridge.json(rowsOf: statement)
        }
    }

    func execute(_ sql: String, parametersJSON: Data) throws -> StorageChanges {
        try Self.mapped {
            let statement = try db.cachedStatement(sql: sql)
            try SQLBridge.bind(parametersJSON: parametersJSON, to: statement)
            try statement.execute()
            return StorageChanges(changes: db.changesCount, lastInsertRowID: db.lastInsertedRowID)
        }
    }

    func query(_ sql: String, values: StatementValues) throws -> RowsBuilder {
        try Self.mapped {
            let statement = try db.cachedStatement(sql: sql)
            try SQLBridge.bind(values, to: statement)
            return try SQLBridge.rows(of: statement)
        }
    }

    func execute(_ sql: String, values: StatementValues) throws -> StorageChanges {
        try Self.mapped {
            let statement = try db.cachedStatement(sql: sql)
            try SQLBridge.bind(values, to: statement)
            try statement.execute()
            return StorageChanges(changes: db.changesCount, lastInsertRowID: db.lastInsertedRowID)
        }
    }

    func savepoint(_ action: SavepointAction, named name: String) throws {
        // Prepared once per connection too: GRDB's `inSavepoint` parses its statements on every
        // call, which is measurable at thousands of calls a second.
        switch action {
        case .begin: try db.cachedStatement(sql: "SAVEPOINT \(name)").execute()
        case .rollback: try db.cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT \(name)").execute()
        case .release: try db.cachedStatement(sql: "RELEASE SAVEPOINT \(name)").execute()
        }
    }

    var isInsideTransaction: Bool { db.isInsideTransaction }

    func script(of migration: PluginDeclaration.Migration) -> String { migration.sql }

    func runScript(of migration: PluginDeclaration.Migration) throws {
        try Self.mapped { try db.execute(sql: migration.sql) }
    }

    /// Straight from the statement, no JSON either way: the role read of every protected request
    /// spent most of its 4 % of the price route's samples writing and parsing JSON. (GRDB's
    /// `Row.fetchOne` with `StatementArguments` was slower than the JSON: it copies the row.)
    func firstText(_ sql: String, _ arguments: [String]) throws -> String? {
        try Self.mapped {
            let statement = try db.cachedStatement(sql: sql)
            try SQLBridge.bind(texts: arguments, to: statement)
            return try SQLBridge.firstText(of: statement)
        }
    }

    func tableNames() throws -> Set<String> {
        try Self.mapped { try Set(String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'")) }
    }

    /// GRDB's and the bridge's errors as the engine-neutral `StorageFailure`.
    private static func mapped<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DatabaseError {
            throw StorageFailure(kind: .statement, message: error.message ?? error.description)
        } catch let error as SQLBridge.BridgeError {
            throw StorageFailure(kind: .parameters, message: error.message)
        }
    }
}

extension Store: StorageEngine {
    public func read<Answer>(_ body: @escaping (StorageSession) throws -> Answer) async throws -> Answer {
        // `body` runs once, on the reader GRDB picks; its answer comes back to this task alone.
        let handed = Handoff(body)
        return try await pool.read { db in Handoff(try handed.value(SQLiteSession(db))) }.value
    }

    /// On the calling thread's own reader connection (`CallingThreadReaders`).
    public func readOnCallingThread<Answer>(_ body: (StorageSession) throws -> Answer) throws -> Answer {
        try callingThreadReaders.read { db in try body(SQLiteSession(db)) }
    }

    public var readsRunOnCallingThread: Bool { true }

    public func writeTransaction<Answer>(_ body: @escaping (StorageSession) throws -> Answer) async throws -> Answer {
        let handed = Handoff(body)
        defer { wrote() }
        return try await pool.writeWithoutTransaction { db in
            Handoff(try Self.transaction(db) { try handed.value(SQLiteSession(db)) })
        }.value
    }

    public func writeTransactionNow<Answer>(_ body: (StorageSession) throws -> Answer) throws -> Answer {
        try withoutActuallyEscaping(body) { body in
            // Synchronous: `body` runs on the writer queue while this thread waits for it.
            let handed = Handoff(body)
            defer { wrote() }
            return try pool.writeWithoutTransaction { db in
                Handoff(try Self.transaction(db) { try handed.value(SQLiteSession(db)) })
            }.value
        }
    }

    /// One process per database file (`ServerLock`): its hub numbers its own events.
    public func makeEventJournal(hub: EventHub, keep: Int, logger: Logger) throws -> (any EventJournal)? { nil }
    public func makeSharedRateLimits(logger: Logger) -> (any SharedRateLimits)? { nil }
    public func makePeriodicWorkLease(logger: Logger) -> (any PeriodicWorkLease)? { nil }
    /// GRDB's pool keeps its file open until the store goes.
    public func releaseIdleConnections() {}

    /// After a write transaction ends, committed or not (a needless bump costs one fresh snapshot):
    /// before its caller learns the outcome, so that every read it starts afterwards sees the commit.
    private func wrote() {
        writeGeneration.wrappingIncrement(ordering: .releasing)
    }

    /// BEGIN IMMEDIATE (take the write lock now, not at the first write), commit on return.
    private static func transaction<Answer>(_ db: Database, _ body: () throws -> Answer) throws -> Answer {
        var answer: Answer?
        try db.inTransaction(.immediate) {
            answer = try body()
            return .commit
        }
        return answer!
    }
}
