import Foundation
import GRDB
import StelltronPluginKit

/// Converts between the ABI's JSON (parameters in, rows out) and GRDB values.
enum SQLBridge {
    struct BridgeError: Error { let message: String }

    /// `[1, 2.5, "x", true, null]` → statement arguments. Integers stay integers (exact money),
    /// booleans bind as 1 and 0.
    static func arguments(fromJSON data: Data) throws -> StatementArguments {
        if data.isEmpty { return StatementArguments() }
        let message = "parameters must be a JSON array of scalars (number, string, boolean or null)"
        guard case .array(let parameters)? = try? JSONValue.parse(data) else { throw BridgeError(message: message) }
        return StatementArguments(try parameters.map { parameter -> DatabaseValueConvertible? in
            switch parameter {
            case .null: return nil
            case .bool(let value): return value ? 1 : 0
            case .int(let value): return value
            case .double(let value): return value
            case .string(let value): return value
            case .array, .object: throw BridgeError(message: message)
            }
        })
    }

    /// Statements a plugin may not run. The host owns transactions: a COMMIT or ROLLBACK inside a
    /// request would end the savepoints of every request sharing its group-commit batch. It also
    /// owns the set of database files.
    static let hostOnlyStatements: Set<String> = ["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "ATTACH", "DETACH", "VACUUM"]

    /// Throws when `sql` starts (after spaces and comments) with a host-only statement.
    static func checkAllowed(_ sql: String) throws {
        var rest = Substring(sql)
        while true {
            rest = rest.drop { $0.isWhitespace }
            if rest.hasPrefix("--") {
                rest = rest.drop { $0 != "\n" }
            } else if rest.hasPrefix("/*") {
                guard let end = rest.range(of: "*/") else { return }
                rest = rest[end.upperBound...]
            } else {
                break
            }
        }
        let keyword = rest.prefix { $0.isLetter }.uppercased()
        if hostOnlyStatements.contains(keyword) {
            throw BridgeError(message: "\(keyword) is reserved to the host: every request already runs in a transaction the host commits")
        }
    }

    /// Rows → `[{"column": value, ...}, ...]`, written directly (no intermediate objects).
    static func json(rows: [Row]) -> Data {
        var out = "["
        for (index, row) in rows.enumerated() {
            if index > 0 { out += "," }
            out += "{"
            var first = true
            for (column, value) in row {
                if !first { out += "," }
                first = false
                JSONWriter.appendString(column, to: &out)
                out += ":"
                append(value, to: &out)
            }
            out += "}"
        }
        out += "]"
        return Data(out.utf8)
    }

    private static func append(_ value: DatabaseValue, to out: inout String) {
        switch value.storage {
        case .null: out += "null"
        case .int64(let int): out += String(int)
        case .double(let double): JSONWriter.appendDouble(double, to: &out)
        case .string(let string): JSONWriter.appendString(string, to: &out)
        case .blob(let data): JSONWriter.appendString(data.base64EncodedString(), to: &out)
        }
    }
}
