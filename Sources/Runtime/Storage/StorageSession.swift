import Foundation
import Logging
import StelltronPluginKit

/// One database connection during one call scope: everything a plugin's storage calls, the host's
/// own services and the call scopes' savepoints need, in the ABI's terms (SQL with `?`
/// placeholders, JSON parameters in and JSON rows out, or since ABI 1.3 typed values both ways). SQLite (`SQLiteSession`) and PostgreSQL
/// (`PostgresSession`) implement it; no plugin knows which one it runs on.
public protocol StorageSession: AnyObject {
    /// Runs a statement and answers its rows as `[{"column": value, ...}, ...]`.
    func query(_ sql: String, parametersJSON: Data) throws -> Data
    /// Runs a writing statement inside the current transaction.
    func execute(_ sql: String, parametersJSON: Data) throws -> StorageChanges
    /// `query` with typed parameters, its rows as cells (ABI 1.3's `storage_query_values`).
    func query(_ sql: String, values: StatementValues) throws -> RowsBuilder
    /// `execute` with typed parameters (ABI 1.3's `storage_exec_values`).
    func execute(_ sql: String, values: StatementValues) throws -> StorageChanges
    /// The host's savepoints around each call and nested service call (never a plugin's).
    func savepoint(_ action: SavepointAction, named name: String) throws
    /// False once the engine rolled the whole transaction back on its own (an I/O error, a full
    /// disk): the calls before it in the batch lost their writes too.
    var isInsideTransaction: Bool { get }
    /// The SQL this engine runs for `migration` (its PostgreSQL variant on PostgreSQL, when it has one).
    func script(of migration: PluginDeclaration.Migration) -> String
    /// Runs a migration's script: one or more statements, no parameters.
    func runScript(of migration: PluginDeclaration.Migration) throws
    /// The tables of the database (of its schema on PostgreSQL).
    func tableNames() throws -> Set<String>
    /// The host's own one-value lookups (a caller's role on every protected request): the text
    /// of a one-column statement's first row, nil when there is no row, "" for NULL. For text
    /// columns: the default, through `query`, reads a number as "". An engine may answer without
    /// JSON (SQLite does).
    func firstText(_ sql: String, _ arguments: [String]) throws -> String?
}

public enum SavepointAction: Sendable {
    case begin, rollback, release
}

/// What a writing statement did.
public struct StorageChanges: Sendable, Equatable {
    public let changes: Int
    public let lastInsertRowID: Int64
}

/// A statement or its parameters refused by the engine, in words a plugin author can act on.
public struct StorageFailure: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// The SQL failed: syntax, a constraint, a write on a read snapshot (STL_ERR_STORAGE).
        case statement
        /// The parameters do not fit the statement (STL_ERR_BAD_REQUEST).
        case parameters
    }

    public let kind: Kind
    public let message: String
    /// PostgreSQL's SQLSTATE of a refused statement.
    public var sqlState: String? = nil
    public var description: String { message }
}

/// The ABI's statement parameters, checked the same way whatever the engine binds them to.
enum StorageParameters {
    static let shape = "parameters must be a JSON array of scalars (number, string, boolean or null)"

    /// `[1, 2.5, "x", true, null]` (no bytes: none), exactly as many as the statement's `?`.
    static func parse(_ data: Data, expected: Int) throws -> [JSONValue] {
        var parameters: [JSONValue] = []
        if !data.isEmpty {
            guard case .array(let parsed)? = try? JSONValue.parse(data) else { throw StorageFailure(kind: .parameters, message: shape) }
            parameters = parsed
        }
        try check(parameters.count, expected: expected)
        return parameters
    }

    /// As many values as the statement's `?`.
    static func check(_ count: Int, expected: Int) throws {
        guard count == expected else {
            throw StorageFailure(kind: .parameters, message: "the statement has \(expected) parameters but \(count) values were given")
        }
    }
}

/// Where call scopes get their sessions: read snapshots and write transactions.
public protocol StorageEngine: AnyObject, Sendable {
    /// Runs `body` on a read snapshot, off the caller's thread.
    func read<Answer>(_ body: @escaping (StorageSession) throws -> Answer) async throws -> Answer
    /// `read`, on the caller's thread when the engine can (SQLite: no hop to a reader thread and
    /// back, the larger part of a short read's cost). For short reads only: the caller's thread
    /// (an event loop serving other connections) waits for `body`.
    /// Synchronous, so an event loop can answer a request without a task (`serveOnCallingThread`).
    func readOnCallingThread<Answer>(_ body: (StorageSession) throws -> Answer) throws -> Answer
    /// Whether this engine has `readOnCallingThread`; ask before calling it.
    var readsRunOnCallingThread: Bool { get }
    /// Runs `body` in one write transaction (a group-commit batch), committed when it returns and
    /// rolled back when it throws. Write transactions never overlap.
    func writeTransaction<Answer>(_ body: @escaping (StorageSession) throws -> Answer) async throws -> Answer
    /// `writeTransaction`, synchronously: for loading, before anything else runs.
    func writeTransactionNow<Answer>(_ body: (StorageSession) throws -> Answer) throws -> Answer
    /// Where committed events are numbered when replicas share the database (`EventJournal`);
    /// nil when this process numbers its own.
    func makeEventJournal(hub: EventHub, keep: Int, logger: Logger) throws -> (any EventJournal)?
    /// Rate limits every replica shares; nil when this process's memory is the right place.
    func makeSharedRateLimits(logger: Logger) -> (any SharedRateLimits)?
    /// The lease on periodic work among replicas; nil when this process is the only one.
    func makePeriodicWorkLease(logger: Logger) -> (any PeriodicWorkLease)?
    /// Lets idle connections go when the runtime shuts down (a later call opens new ones).
    func releaseIdleConnections()
}

extension StorageEngine {
    /// Engines whose reads wait for a server (PostgreSQL) have no thread to save and no
    /// synchronous read; `readsRunOnCallingThread` says so, and calling it anyway is a host bug.
    public func readOnCallingThread<Answer>(_ body: (StorageSession) throws -> Answer) throws -> Answer {
        preconditionFailure("\(Self.self) has no reads on the calling thread: check readsRunOnCallingThread first")
    }

    public var readsRunOnCallingThread: Bool { false }
}

extension StorageSession {
    public func firstText(_ sql: String, _ arguments: [String]) throws -> String? {
        try rows(sql, arguments.map(JSONValue.string)).first.map { $0.values.first?.stringValue ?? "" }
    }

    /// The host's own statements, with parameters as the kit's JSON values and rows decoded.
    public func rows(_ sql: String, _ parameters: [JSONValue] = []) throws -> [[String: JSONValue]] {
        guard case .array(let rows) = try JSONValue.parse(try query(sql, parametersJSON: JSONValue.array(parameters).jsonData)) else { return [] }
        return rows.compactMap { if case .object(let row) = $0 { return row } else { return nil } }
    }

    /// Rows decoded as `T`, by column name.
    public func fetch<T: Decodable>(_ type: T.Type, _ sql: String, _ parameters: [JSONValue] = []) throws -> [T] {
        try JSONCoding.decode([T].self, from: try query(sql, parametersJSON: JSONValue.array(parameters).jsonData))
    }

    @discardableResult
    public func run(_ sql: String, _ parameters: [JSONValue] = []) throws -> StorageChanges {
        try execute(sql, parametersJSON: JSONValue.array(parameters).jsonData)
    }
}

/// The engine a `--database` value names.
public enum StorageEngines {
    /// `postgres://…` (or `postgresql://…`) is PostgreSQL; any other value is a SQLite path
    /// (`:memory:` a private temporary one).
    public static func open(_ database: String, logger: Logger) throws -> any StorageEngine {
        if PostgresLocation.isPostgres(database) {
            return try PostgresEngine(url: database, logger: logger)
        }
        return try Store(path: database)
    }

    public static func isPostgres(_ database: String) -> Bool {
        PostgresLocation.isPostgres(database)
    }

    /// The database for logs: a PostgreSQL URL without its password.
    public static func describe(_ database: String) -> String {
        guard isPostgres(database) else { return database }
        return (try? PostgresLocation(database).redacted) ?? "postgres://…"
    }
}
