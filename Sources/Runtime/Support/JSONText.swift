import Foundation
import StelltronPluginKit

/// Small JSON writing helpers for the host's hot paths (rows, event frames, errors), where
/// building Foundation objects only to serialise them again would cost more than the work.
public enum JSONText {
    /// `{"key":"value",...}` for a string dictionary, keys sorted.
    public static func object(_ dictionary: [String: String]) -> String {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (index, member) in dictionary.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONWriter.appendString(member.key, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONWriter.appendString(member.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// The API's error body, as plugins write it.
    public static func error(_ message: String) -> Data {
        JSONCoding.errorBody(message)
    }
}
