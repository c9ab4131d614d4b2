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
        // Existentials, not `[DatabaseValue]`: GRDB's initializer for a concrete element type maps
        // through a key path, which costs more than the whole statement when unspecialised.
        var values: [(any DatabaseValueConvertible)?] = []
        values.reserveCapacity(parameters.count)
        for parameter in parameters {
            switch parameter {
            case .null: values.append(nil)
            case .bool(let value): values.append(Int64(value ? 1 : 0))
            case .int(let value): values.append(value)
            case .double(let value): values.append(value)
            case .string(let value): values.append(value)
            case .array, .object: throw BridgeError(message: message)
            }
        }
        return StatementArguments(values)
    }

    /// Statements a plugin may not run. The host owns transactions: a COMMIT or ROLLBACK inside a
    /// request would end the savepoints of every request sharing its group-commit batch. It also
    /// owns the set of database files.
    static let hostOnlyStatements: Set<String> = ["BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE", "ATTACH", "DETACH", "VACUUM"]

    /// Throws when `sql` starts (after spaces and comments) with a host-only statement. Runs
    /// before every statement, so it reads bytes, not characters.
    static func checkAllowed(_ sql: String) throws {
        var keyword = ""
        var bytes = sql.utf8[...]
        while let byte = bytes.first {
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
                bytes = bytes[bytes.endIndex...]
            }
        }
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
