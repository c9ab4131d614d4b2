import Foundation

/// Small JSON writing helpers for the host's hot paths (rows, event frames, errors), where
/// building Foundation objects only to serialise them again would cost more than the work.
enum JSONText {
    static func appendString(_ string: String, to out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20:
                out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    static func quoted(_ string: String) -> String {
        var out = ""
        appendString(string, to: &out)
        return out
    }

    /// `{"key":"value",...}` for a string dictionary, keys sorted.
    static func object(_ dictionary: [String: String]) -> String {
        var out = "{"
        for (index, key) in dictionary.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            appendString(key, to: &out)
            out += ":"
            appendString(dictionary[key]!, to: &out)
        }
        return out + "}"
    }

    /// The API's error body.
    static func error(_ message: String) -> Data {
        Data("{\"error\":\(quoted(message))}".utf8)
    }

    /// True when `data` parses as a JSON object.
    static func isObject(_ data: Data) -> Bool {
        (try? JSONSerialization.jsonObject(with: data)) is [String: Any]
    }
}
