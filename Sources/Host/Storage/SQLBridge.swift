import Foundation
import GRDB

/// Converts between the ABI's JSON (parameters in, rows out) and GRDB values.
enum SQLBridge {
    struct BridgeError: Error { let message: String }

    /// `[1, 2.5, "x", true, null]` → statement arguments. Integers stay integers (exact money).
    static func arguments(fromJSON data: Data) throws -> StatementArguments {
        if data.isEmpty { return StatementArguments() }
        guard let parameters = try? JSONDecoder().decode([Parameter].self, from: data) else {
            throw BridgeError(message: "parameters must be a JSON array of scalars (number, string, boolean or null)")
        }
        return StatementArguments(parameters.map(\.value))
    }

    /// One scalar parameter. Decoding tries the narrowest type first, so `2` binds as an integer
    /// and `2.5` as a real.
    private struct Parameter: Decodable {
        let value: DatabaseValueConvertible?

        init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                value = nil
            } else if let bool = try? container.decode(Bool.self) {
                value = bool ? 1 : 0
            } else if let int = try? container.decode(Int64.self) {
                value = int
            } else if let double = try? container.decode(Double.self) {
                value = double
            } else {
                value = try container.decode(String.self)
            }
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
                JSONText.appendString(column, to: &out)
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
        case .double(let double): out += double.isFinite ? "\(double)" : "null"
        case .string(let string): JSONText.appendString(string, to: &out)
        case .blob(let data): JSONText.appendString(data.base64EncodedString(), to: &out)
        }
    }
}
