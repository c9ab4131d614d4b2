import Foundation
import Logging
import NIOCore
import PostgresNIO
import StelltronPluginKit

/// `StorageSession` on one PostgreSQL connection inside one transaction. Plugin calls are
/// synchronous C calls, so each statement waits for its answer: sessions only run on the engine's
/// own threads (or the loading thread), never on an event loop.
///
/// PostgreSQL differs from SQLite in one way a plugin can see: a failed statement aborts the
/// transaction up to the innermost savepoint, so statements after it in the same call fail too
/// until the host rolls that call back (ABI.md, "Storage").
final class PostgresSession: StorageSession {
    let connection: PostgresConnection
    private let dialect: PostgresStatements
    private let logger: Logger
    /// Set when a statement failed: PostgreSQL refuses everything until a rollback to a savepoint.
    private(set) var isAborted = false
    /// Cleared when the connection broke: the transaction is gone with it.
    private(set) var isInsideTransaction = true

    init(connection: PostgresConnection, dialect: PostgresStatements, logger: Logger) {
        self.connection = connection
        self.dialect = dialect
        self.logger = logger
    }

    func query(_ sql: String, parametersJSON: Data) throws -> Data {
        try PostgresRows.json(try run(sql, parametersJSON: parametersJSON).rows)
    }

    func execute(_ sql: String, parametersJSON: Data) throws -> StorageChanges {
        let result = try run(sql, parametersJSON: parametersJSON)
        // PostgreSQL has no rowid: portable plugins read generated keys with RETURNING.
        return StorageChanges(changes: result.metadata.rows ?? 0, lastInsertRowID: 0)
    }

    func query(_ sql: String, values: StatementValues) throws -> RowsBuilder {
        try PostgresRows.cells(try run(sql) { try PostgresParameters.bind(values, expected: $0) }.rows)
    }

    func execute(_ sql: String, values: StatementValues) throws -> StorageChanges {
        let result = try run(sql) { try PostgresParameters.bind(values, expected: $0) }
        return StorageChanges(changes: result.metadata.rows ?? 0, lastInsertRowID: 0)
    }

    func script(of migration: PluginDeclaration.Migration) -> String {
        migration.postgresSQL ?? migration.sql
    }

    /// A migration's PostgreSQL variant as written; otherwise its SQLite script, translated
    /// statement by statement (refused, naming the statement, where it cannot be).
    func runScript(of migration: PluginDeclaration.Migration) throws {
        let statements: [String]
        do {
            statements = try migration.postgresSQL.map(PostgresDialect.split) ?? PostgresDialect.translateScript(migration.sql)
        } catch let error as PostgresDialect.Untranslatable {
            throw StorageFailure(kind: .statement, message: error.message)
        }
        for statement in statements {
            try send(statement)
        }
    }

    func tableNames() throws -> Set<String> {
        let result = try native("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return Set(try result.rows.map { try $0.makeRandomAccess()[0].decode(String.self) })
    }

    func savepoint(_ action: SavepointAction, named name: String) throws {
        switch action {
        case .begin: try send("SAVEPOINT \(name)")
        case .rollback:
            try send("ROLLBACK TO SAVEPOINT \(name)", evenIfAborted: true)
            isAborted = false
        case .release: try send("RELEASE SAVEPOINT \(name)")
        }
    }

    /// A statement of the host's own, in PostgreSQL's dialect, with typed bindings.
    func native(_ query: PostgresQuery) throws -> PostgresQueryResult {
        try wait(connection.query(query, logger: logger))
    }

    /// A statement of the host's own, without parameters.
    func send(_ sql: String, evenIfAborted: Bool = false) throws {
        _ = try wait(connection.query(PostgresQuery(unsafeSQL: sql), logger: logger), evenIfAborted: evenIfAborted)
    }

    private func run(_ sql: String, parametersJSON: Data) throws -> PostgresQueryResult {
        try run(sql) { try PostgresParameters.bind(parametersJSON, expected: $0) }
    }

    /// Translates `sql` (once per statement) and runs it with the bindings `bind` makes for its
    /// number of placeholders.
    private func run(_ sql: String, binding bind: (Int) throws -> PostgresBindings) throws -> PostgresQueryResult {
        let translated: PostgresDialect.Translated
        do {
            translated = try dialect.translated(sql)
        } catch let error as PostgresDialect.Untranslatable {
            throw StorageFailure(kind: .statement, message: "\(error.message) (in: \(sql.prefix(120)))")
        }
        let binds = try bind(translated.parameterCount)
        return try wait(connection.query(PostgresQuery(unsafeSQL: translated.sql, binds: binds), logger: logger))
    }

    private func wait(_ future: EventLoopFuture<PostgresQueryResult>, evenIfAborted: Bool = false) throws -> PostgresQueryResult {
        if isAborted && !evenIfAborted {
            throw StorageFailure(kind: .statement, message: "an earlier statement of this call failed; on PostgreSQL the call's later statements fail with it")
        }
        do {
            return try future.wait()
        } catch let error as PSQLError {
            guard error.code == .server, let info = error.serverInfo else {
                isInsideTransaction = false
                throw StorageFailure(kind: .statement, message: "the PostgreSQL connection failed: \(error.code)")
            }
            isAborted = true
            var message = info[.message] ?? "PostgreSQL refused the statement"
            if let detail = info[.detail] { message += " (\(detail))" }
            throw StorageFailure(kind: .statement, message: message, sqlState: info[.sqlState])
        }
    }
}

/// JSON parameters → PostgreSQL bindings. Numbers go typed (`int8`, `float8`), so arithmetic on
/// them stays 64-bit; text and booleans go as untyped text, which PostgreSQL reads as whatever the
/// statement needs there — as SQLite's dynamic typing does (a boolean as `1`/`0`, its SQLite form,
/// reads as a boolean in `CASE WHEN ?` and as an integer in an integer column).
enum PostgresParameters {
    static func bind(_ data: Data, expected: Int) throws -> PostgresBindings {
        let parameters = try StorageParameters.parse(data, expected: expected)
        var binds = PostgresBindings(capacity: parameters.count)
        for parameter in parameters {
            switch parameter {
            case .null: binds.appendNull()
            case .int(let value): binds.append(value)
            case .double(let value): binds.append(value)
            case .bool(let value): binds.append(UntypedText(value ? "1" : "0"))
            case .string(let value): binds.append(UntypedText(value))
            case .array, .object: throw StorageFailure(kind: .parameters, message: StorageParameters.shape)
            }
        }
        return binds
    }

    /// ABI 1.3's typed values, bound as the JSON ones are; a blob as `bytea`.
    static func bind(_ values: StatementValues, expected: Int) throws -> PostgresBindings {
        try values.check(expected: expected)
        var binds = PostgresBindings(capacity: values.values.count)
        for value in values.values {
            switch value {
            case .null: binds.appendNull()
            case .integer(let value): binds.append(value)
            case .real(let value): binds.append(value)
            case .text(let bytes): binds.append(UntypedText(String(decoding: bytes, as: UTF8.self)))
            case .blob(let bytes): binds.append(ByteBuffer(bytes: bytes))
            }
        }
        return binds
    }

    /// A parameter whose type PostgreSQL infers from the statement, sent as text.
    struct UntypedText: PostgresDynamicTypeEncodable {
        let text: String
        init(_ text: String) { self.text = text }
        var psqlType: PostgresDataType { .null }
        var psqlFormat: PostgresFormat { .text }
        func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
            byteBuffer.writeString(text)
        }
    }
}
