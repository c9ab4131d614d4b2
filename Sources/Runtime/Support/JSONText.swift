import Foundation
import StelltronPluginKit

/// Small JSON writing helpers for the host's hot paths (rows, event frames, errors), where
/// building Foundation objects only to serialise them again would cost more than the work.
public enum JSONText {
    /// `{"key":"value",...}` for a string dictionary, keys sorted.
    public static func object(_ dictionary: [String: String]) -> String {
        String(decoding: objectBytes(dictionary), as: UTF8.self)
    }

    /// `object`'s UTF-8, for callers that copy it on (a request marshalled for the ABI): no
    /// `String` in between, and no sort for the empty and one-member objects most are.
    public static func objectBytes(_ dictionary: [String: String]) -> [UInt8] {
        if dictionary.isEmpty { return [UInt8(ascii: "{"), UInt8(ascii: "}")] }
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(16 * dictionary.count + 2)
        func append(_ member: (key: String, value: String)) {
            JSONWriter.appendString(member.key, to: &out)
            out.append(UInt8(ascii: ":"))
            JSONWriter.appendString(member.value, to: &out)
        }
        if dictionary.count == 1, let only = dictionary.first {
            append(only)
        } else {
            for (index, member) in dictionary.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                append(member)
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The API's error body, as plugins write it.
    public static func error(_ message: String) -> Data {
        JSONCoding.errorBody(message)
    }
}
