import Foundation

/// Writes JSON text directly into a string: compact, keys sorted, slashes unescaped, numbers as
/// Foundation's `JSONEncoder` writes them (`100.0` → `100`), so switching a payload from the
/// encoder to the writer changes no byte.
public enum JSONWriter {
    /// Appends `string` as a JSON string literal (RFC 8259 escaping).
    public static func appendString(_ string: String, to out: inout String) {
        out += "\""
        var clean = true
        for byte in string.utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
            clean = false
            break
        }
        if clean {
            out += string
        } else {
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case let c where c.value < 0x20:
                    let hex = String(c.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    /// Appends a finite number the way `JSONEncoder` does; non-finite numbers are not JSON and
    /// become `null`.
    public static func appendDouble(_ value: Double, to out: inout String) {
        guard value.isFinite else {
            out += "null"
            return
        }
        let text = value.description
        out += text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }

    public static func quoted(_ string: String) -> String {
        var out = ""
        appendString(string, to: &out)
        return out
    }
}

extension JSONValue {
    /// The value as compact JSON text with sorted keys.
    public var jsonText: String {
        var out = ""
        write(to: &out)
        return out
    }

    public var jsonData: Data { Data(jsonText.utf8) }

    public func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .double(let value): JSONWriter.appendDouble(value, to: &out)
        case .string(let value): JSONWriter.appendString(value, to: &out)
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                element.write(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                JSONWriter.appendString(key, to: &out)
                out += ":"
                members[key]!.write(to: &out)
            }
            out += "}"
        }
    }
}
