import Foundation

/// A namespace for the kit's helpers, so that none is a bare global that a file importing the kit
/// and Hummingbird (a host, a test) could clash with.
public enum StelltronKit {}

extension StelltronKit {
    /// Checks shared by plugins that accept ids from devices and callers.
    public enum Identifiers {
        /// Device ids, node uids, report ids: 1–64 ASCII letters, digits, `-`, `_`, `.` and `:` (a MAC
        /// address such as `00:A0:C9:1E:6B:F1` is one). Other letters are refused, so that no two ids
        /// look alike on screen (homoglyphs). Anything else is a 400 naming `field`.
        public static func validate(_ id: String, field: String = "device_id") throws {
            guard (1...64).contains(id.utf8.count), id.utf8.allSatisfy(isPlainASCII) else {
                throw PluginError.badRequest("\(field) must be 1–64 ASCII letters, digits, '-', '_', '.' or ':'")
            }
        }

        /// Free text a client sends (a location, a telemetry source): at most `maxLength` bytes and no
        /// control characters — a NUL would be stored and read back cut short, a CR or LF would break
        /// a line-based consumer.
        public static func validateText(_ text: String, field: String, maxLength: Int) throws {
            guard text.utf8.count <= maxLength else { throw PluginError.badRequest("\(field) must be at most \(maxLength) bytes") }
            guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
                throw PluginError.badRequest("\(field) must not contain control characters")
            }
        }
    }

    /// Lower-case hexadecimal, for ids and keys made from random bytes (`String(format:)` costs
    /// microseconds a byte on Linux).
    public enum Hex {
        private static let digits = Array("0123456789abcdef".utf8)

        public static func encode(_ bytes: [UInt8]) -> String {
            var text: [UInt8] = []
            text.reserveCapacity(bytes.count * 2)
            for byte in bytes {
                text.append(digits[Int(byte >> 4)])
                text.append(digits[Int(byte & 0x0f)])
            }
            return String(decoding: text, as: UTF8.self)
        }

        /// The bytes of an even-length hex string (either case), or nil.
        public static func decode(_ text: String) -> [UInt8]? {
            let chars = Array(text.utf8)
            guard chars.count % 2 == 0 else { return nil }
            func nibble(_ char: UInt8) -> UInt8? {
                switch char {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): return char - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): return char - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): return char - UInt8(ascii: "A") + 10
                default: return nil
                }
            }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(chars.count / 2)
            var index = 0
            while index < chars.count {
                guard let high = nibble(chars[index]), let low = nibble(chars[index + 1]) else { return nil }
                bytes.append(high << 4 | low)
                index += 2
            }
            return bytes
        }
    }
}

extension StelltronKit.Identifiers {
    /// The common case, checked by bytes before the Unicode-aware rule above.
    private static func isPlainASCII(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"):
            return true
        default:
            return false
        }
    }
}

extension PluginHost {
    /// One more than the largest `column` in `table` (1 for an empty table). Safe for new ids in a
    /// write route or service: the host runs those one at a time. `table` and `column` must be
    /// fixed names from the plugin's own code, never input.
    public func nextValue(of column: String, in table: String) throws -> Int64 {
        (try query("SELECT COALESCE(MAX(\(column)), 0) AS n FROM \(table)").first?["n"]?.int64Value ?? 0) + 1
    }
}
