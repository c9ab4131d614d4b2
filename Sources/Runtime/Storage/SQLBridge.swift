import Foundation
import GRDB
import GRDBSQLite
import StelltronPluginKit

/// Converts between the ABI's JSON (parameters in, rows out) and GRDB values.
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
        // The row is a view of the statement: read it while its cursor lives (a cursor that
        // goes away resets the statement, and the row then reads NULL).
        let rows = try Row.fetchCursor(statement)
        guard let row = try rows.next() else { return nil }
        let value: DatabaseValue = withExtendedLifetime(rows) { row[0] }
        switch value.storage {
        case .null: return ""
        case .string(let string): return string
        case .int64(let int): return String(int)
        case .double(let double): return String(double)
        case .blob(let data): return data.base64EncodedString()
        }
    }

    /// SQLite's "copy the bytes now" destructor.
    private static let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Statements a plugin may not run. The host owns transactions: a COMMIT or ROLLBACK inside a
    /// request would end the savepoints of every request sharing its group-commit batch. It also
    /// owns the set of database files.
    static let hostOnlyStatements: Set<String> = ["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "ATTACH", "DETACH", "VACUUM"]

    /// Throws when `sql` starts (after spaces and comments) with a host-only statement. Runs
    /// before every statement, so it reads bytes, not characters.
    static func checkAllowed(_ sql: String) throws {
        var keyword = ""
        var bytes = sql.utf8[...]
        scan: while let byte = bytes.first {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), 0x0B, 0x0C:
                bytes = bytes.dropFirst()
            case UInt8(ascii: "-") where bytes.dropFirst().first == UInt8(ascii: "-"):
                bytes = bytes.drop { $0 != UInt8(ascii: "\n") }
            case UInt8(ascii: "/") where bytes.dropFirst().first == UInt8(ascii: "*"):
                guard let end = bytes.indices.dropFirst(2).first(where: { bytes[$0] == UInt8(ascii: "*") && bytes.index(after: $0) < bytes.endIndex && bytes[bytes.index(after: $0)] == UInt8(ascii: "/") }) else { return }
                bytes = bytes[bytes.index(end, offsetBy: 2)...]
            default:
                keyword = String(decoding: bytes.prefix { ($0 | 0x20) >= UInt8(ascii: "a") && ($0 | 0x20) <= UInt8(ascii: "z") }.prefix(10), as: UTF8.self).uppercased()
                break scan
            }
        }
        if hostOnlyStatements.contains(keyword) {
            throw BridgeError(message: "\(keyword) is reserved to the host: every request already runs in a transaction the host commits")
        }
    }

    /// The statement's rows → `[{"column": value, ...}, ...]`, written while stepping through
    /// them (no copy of each row, no intermediate objects).
    static func json(rowsOf statement: Statement) throws -> Data {
        var out: [UInt8] = [UInt8(ascii: "[")]
        out.reserveCapacity(256)
        var index = 0
        let rows = try Row.fetchCursor(statement)
        while let row = try rows.next() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            index += 1
            out.append(UInt8(ascii: "{"))
            var first = true
            for (column, value) in row {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                JSONWriter.appendString(column, to: &out)
                out.append(UInt8(ascii: ":"))
                append(value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        return Data(out)
    }

    private static func append(_ value: DatabaseValue, to out: inout [UInt8]) {
        switch value.storage {
        case .null: out.append(contentsOf: "null".utf8)
        case .int64(let int): out.append(contentsOf: String(int).utf8)
        case .double(let double): JSONWriter.appendDouble(double, to: &out)
        case .string(let string): JSONWriter.appendString(string, to: &out)
        case .blob(let data): JSONWriter.appendString(data.base64EncodedString(), to: &out)
        }
    }
}
