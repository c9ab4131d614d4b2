import Foundation
import StelltronPluginKit

/// Small JSON writing helpers for the host's hot paths (rows, event frames, errors), where
/// building Foundation objects only to serialise them again would cost more than the work.
public enum JSONText {
    /// `{"key":"value",...}` for a string dictionary, keys sorted.
    public static func object(_ dictionary: [String: String]) -> String {
        var out = "{"
        for (index, key) in dictionary.keys.sorted().enumerated() {
            if index > 0 { out += "," }
            JSONWriter.appendString(key, to: &out)
            out += ":"
            JSONWriter.appendString(dictionary[key]!, to: &out)
        }
        return out + "}"
    }

    /// The API's error body, as plugins write it.
    public static func error(_ message: String) -> Data {
        JSONCoding.errorBody(message)
    }
}
