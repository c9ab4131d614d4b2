import Foundation
import StelltronPluginKit

/// Small JSON writing helpers for the host's hot paths (rows, event frames, errors), where
/// building Foundation objects only to serialise them again would cost more than the work.
enum JSONText {
    /// `{"key":"value",...}` for a string dictionary, keys sorted.
    static func object(_ dictionary: [String: String]) -> String {
        var out = "{"
        for (index, key) in dictionary.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            JSONWriter.appendString(key, to: &out)
            out += ":"
            JSONWriter.appendString(dictionary[key]!, to: &out)
        }
        return out + "}"
    }

    /// The API's error body.
    static func error(_ message: String) -> Data {
        Data("{\"error\":\(JSONWriter.quoted(message))}".utf8)
    }

    /// True when `data` parses as a JSON object.
    static func isObject(_ data: Data) -> Bool {
        JSONValue.isObject(data)
    }
}
