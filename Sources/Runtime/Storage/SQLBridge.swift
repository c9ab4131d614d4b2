import Foundation
import GRDB
import GRDBSQLite
import StelltronPluginKit

/// Converts between the ABI's JSON (parameters in, rows out) and SQLite's values, through
/// SQLite's C API on GRDB's prepared statements.
enum SQLBridge {
    struct BridgeError: Error { let message: String }

    /// Binds `[1, 2.5, "x", true, null]` to the statement's `?` placeholders, in order. Integers
    /// stay integers (exact money), booleans bind as 1 and 0, text is copied by SQLite.
    ///
    /// Binding goes straight through SQLite's C API: building GRDB's `StatementArguments` maps
    /// the values through unspecialised generic code that cost more than executing the
    /// statement. GRDB is told the arguments are set (to none), then the values are bound.
    static func bind(parametersJSON data: Data, to statement: Statement) throws {
        let parameters = try StorageParameters.parse(data, expected: Int(sqlite3_bind_parameter_count(statement.sqliteStatement)))
        try bind(parameters, to: statement)
    }

    /// Binds texts to the statement's `?` placeholders, in order: the host's own lookups, without
    /// the JSON.
    static func bind(texts: [String], to statement: Statement) throws {
        try StorageParameters.check(texts.count, expected: Int(sqlite3_bind_parameter_count(statement.sqliteStatement)))
        try bind(texts.map(JSONValue.string), to: statement)
    }

    /// Binds values already counted against the statement's placeholders.
    private static func bind(_ parameters: [JSONValue], to statement: Statement) throws {
        let sqlite = statement.sqliteStatement
        statement.setUncheckedArguments(StatementArguments())
        for (offset, parameter) in parameters.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch parameter {
            case .null: code = sqlite3_bind_null(sqlite, index)
            case .bool(let value): code = sqlite3_bind_int64(sqlite, index, value ? 1 : 0)
            case .int(let value): code = sqlite3_bind_int64(sqlite, index, value)
            case .double(let value): code = sqlite3_bind_double(sqlite, index, value)
            case .string(let value): code = bindText(value, at: index, to: sqlite)
            case .array, .object: throw StorageFailure(kind: .parameters, message: StorageParameters.shape)
            }
            guard code == SQLITE_OK else { throw BridgeError(message: "could not bind parameter \(index) (SQLite code \(code))") }
        }
    }

    /// Binds ABI 1.3's typed values, counted against the statement's placeholders: no JSON.
    static func bind(_ values: StatementValues, to statement: Statement) throws {
        let sqlite = statement.sqliteStatement
        try values.check(expected: Int(sqlite3_bind_parameter_count(sqlite)))
        statement.setUncheckedArguments(StatementArguments())
        for (offset, value) in values.values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(sqlite, index)
            case .integer(let value): code = sqlite3_bind_int64(sqlite, index, value)
            case .real(let value): code = sqlite3_bind_double(sqlite, index, value)
            case .text(let bytes):
                // An empty text at no address would bind NULL: "" is bound instead.
                code = bytes.baseAddress.map { sqlite3_bind_text(sqlite, index, $0.assumingMemoryBound(to: CChar.self), Int32(bytes.count), sqliteTransient) }
                    ?? sqlite3_bind_text(sqlite, index, "", 0, sqliteTransient)
            case .blob(let bytes):
                code = bytes.baseAddress.map { sqlite3_bind_blob(sqlite, index, $0, Int32(bytes.count), sqliteTransient) }
                    ?? sqlite3_bind_zeroblob(sqlite, index, 0)
            }
            guard code == SQLITE_OK else { throw BridgeError(message: "could not bind parameter \(index) (SQLite code \(code))") }
        }
    }

    /// Binds one text, copied by SQLite; answers SQLite's result code.
    private static func bindText(_ text: String, at index: Int32, to sqlite: SQLiteStatement) -> Int32 {
        var text = text
        return text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                guard let base = chars.baseAddress else { return sqlite3_bind_text(sqlite, index, "", 0, sqliteTransient) }
                return sqlite3_bind_text(sqlite, index, base, Int32(chars.count), sqliteTransient)
            }
        }
    }

    /// The first column of the statement's first row as text: nil without a row, "" for NULL.
    static func firstText(of statement: Statement) throws -> String? {
        var text: String?
        // One step: the rows after the first are never read.
        _ = try ColumnCursor(statement) { sqlite in
            text = switch sqlite3_column_type(sqlite, 0) {
            case SQLITE_NULL: ""
            case SQLITE_INTEGER: String(sqlite3_column_int64(sqlite, 0))
            case SQLITE_FLOAT: String(sqlite3_column_double(sqlite, 0))
            case SQLITE_BLOB: blob(sqlite, 0).base64EncodedString()
            default: self.text(sqlite, 0)
            }
        }.next()
        return text
    }

    /// SQLite's "copy the bytes now" destructor.
    private static let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Statements a plugin may not run. The host owns transactions: a COMMIT or ROLLBACK inside a
    /// request would end the savepoints of every request sharing its group-commit batch. It also
    /// owns the set of database files.
    static let hostOnlyStatements = ["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "ATTACH", "DETACH", "VACUUM"]
    /// `hostOnlyStatements` as bytes, for `checkAllowed`.
    private static let hostOnlyKeywords = hostOnlyStatements.map { Array($0.utf8) }

    /// Throws when `sql` starts (after spaces and comments) with a host-only statement.
    static func checkAllowed(_ sql: String) throws {
        var sql = sql
        try sql.withUTF8 { try checkAllowed(UnsafeRawBufferPointer($0)) }
    }

    /// `checkAllowed` on the statement's bytes as the plugin passed them. It runs before every
    /// statement, so it reads the buffer and makes no string: through `Substring.UTF8View`, with
    /// the keyword upper-cased into a `String`, it was 0.5 µs of each plugin query (`perf`,
    /// BENCHMARKS.md, issue 16, sixteenth session).
    static func checkAllowed(_ sql: UnsafeRawBufferPointer) throws {
        var index = 0
        func byte(_ at: Int) -> UInt8? { at < sql.count ? sql[at] : nil }
        scan: while let current = byte(index) {
            switch current {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0x0B, 0x0C:
                index += 1
            case UInt8(ascii: "-") where byte(index + 1) == UInt8(ascii: "-"):
                while let next = byte(index), next != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "/") where byte(index + 1) == UInt8(ascii: "*"):
                index += 2
                while byte(index) != nil, !(byte(index) == UInt8(ascii: "*") && byte(index + 1) == UInt8(ascii: "/")) { index += 1 }
                // An unterminated comment is no statement: SQLite refuses it.
                guard byte(index) != nil else { return }
                index += 2
            default:
                break scan
            }
        }
        var end = index
        while let letter = byte(end), (letter | 0x20) >= UInt8(ascii: "a"), (letter | 0x20) <= UInt8(ascii: "z") { end += 1 }
        // `| 0x20` lowercases ASCII letters, and the keywords are upper case: `& ~0x20` raises them.
        let keyword = sql[index..<end]
        guard let reserved = hostOnlyKeywords.firstIndex(where: { $0.count == keyword.count && zip($0, keyword).allSatisfy { $0 == $1 & ~0x20 } }) else { return }
        throw BridgeError(message: "\(hostOnlyStatements[reserved]) is reserved to the host: every request already runs in a transaction the host commits")
    }

    /// The statement's rows → `[{"column": value, ...}, ...]`, written while stepping through
    /// them: column names escaped once per query, values read with SQLite's C API. GRDB's `Row`
    /// built a lower-cased column index and a `DatabaseValue` per value first: 5 % of the rows'
    /// samples in `String.lowercased()` alone (BENCHMARKS.md, issue 16, tenth session).
    static func json(rowsOf statement: Statement) throws -> Data {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(256)
        let names = statement.columnNames.map { name in
            var quoted: [UInt8] = []
            JSONWriter.appendString(name, to: &quoted)
            quoted.append(UInt8(ascii: ":"))
            return quoted
        }
        var index = 0
        try ColumnCursor(statement) { sqlite in
            if index > 0 { out.append(UInt8(ascii: ",")) }
            index += 1
            out.append(UInt8(ascii: "{"))
            for (column, name) in names.enumerated() {
                if column > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: name)
                append(column: Int32(column), of: sqlite, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }.forEach {}
        out.append(UInt8(ascii: "]"))
        return Data(out)
    }

    /// The statement's rows as ABI 1.3's cells, in SQLite's own types: no JSON, no base64.
    static func rows(of statement: Statement) throws -> RowsBuilder {
        var rows = RowsBuilder()
        rows.setColumns(statement.columnNames)
        let count = Int32(rows.columnCount)
        try ColumnCursor(statement) { sqlite in
            for column in 0..<count {
                switch sqlite3_column_type(sqlite, column) {
                case SQLITE_NULL: rows.appendNull()
                case SQLITE_INTEGER: rows.appendInteger(sqlite3_column_int64(sqlite, column))
                case SQLITE_FLOAT: rows.appendReal(sqlite3_column_double(sqlite, column))
                case SQLITE_BLOB:
                    rows.appendBlob(UnsafeRawBufferPointer(start: sqlite3_column_blob(sqlite, column), count: Int(sqlite3_column_bytes(sqlite, column))))
                default:
                    rows.appendText(UnsafeRawBufferPointer(start: sqlite3_column_text(sqlite, column), count: Int(sqlite3_column_bytes(sqlite, column))))
                }
            }
        }.forEach {}
        return rows
    }

    private static func append(column: Int32, of sqlite: SQLiteStatement, to out: inout [UInt8]) {
        switch sqlite3_column_type(sqlite, column) {
        case SQLITE_NULL: out.append(contentsOf: "null".utf8)
        case SQLITE_INTEGER: out.append(contentsOf: String(sqlite3_column_int64(sqlite, column)).utf8)
        case SQLITE_FLOAT: JSONWriter.appendDouble(sqlite3_column_double(sqlite, column), to: &out)
        case SQLITE_BLOB: JSONWriter.appendString(blob(sqlite, column).base64EncodedString(), to: &out)
        default: JSONWriter.appendString(text(sqlite, column), to: &out)
        }
    }

    /// A text column; invalid UTF-8 is repaired, an embedded NUL kept.
    private static func text(_ sqlite: SQLiteStatement, _ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(sqlite, column) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(sqlite, column))), as: UTF8.self)
    }

    private static func blob(_ sqlite: SQLiteStatement, _ column: Int32) -> Data {
        guard let bytes = sqlite3_column_blob(sqlite, column) else { return Data() }
        return Data(bytes: bytes, count: Int(sqlite3_column_bytes(sqlite, column)))
    }
}

/// Steps a statement through GRDB — which runs its bookkeeping around execution (a failed
/// statement leaves the cache, the transaction state is tracked) — and hands each row to `row`,
/// which reads the columns itself. Resets the statement when it goes, as GRDB's cursors do.
private final class ColumnCursor: DatabaseCursor {
    typealias Element = Void
    var _isDone = false
    let _statement: Statement
    private let row: (SQLiteStatement) throws -> Void

    init(_ statement: Statement, row: @escaping (SQLiteStatement) throws -> Void) {
        _statement = statement
        self.row = row
    }

    deinit { sqlite3_reset(_statement.sqliteStatement) }

    func _element(sqliteStatement: SQLiteStatement) throws { try row(sqliteStatement) }
}
