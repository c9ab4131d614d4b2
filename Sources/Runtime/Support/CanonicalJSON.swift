import Foundation
import StelltronPluginKit

/// Recognises bytes that are already the host's canonical JSON: exactly what parsing them and
/// writing the value back (`JSONValue.parse(bytes).jsonData`: compact, keys sorted, the writer's
/// escapes and number forms) would give. The hub publishes only canonical payloads; a plugin's
/// event written by the kit already is one, and recognising it in one pass costs a fraction of
/// parsing and writing it again (12 % of the single writer's time on node-data pings).
///
/// Conservative by design: `true` only when the bytes are certainly canonical. Anything it does
/// not prove — whitespace, unsorted or escaped keys, any byte above ASCII (whose UTF-8 validity
/// the parser checks), a number in another spelling, deep nesting — answers `false`, and the
/// caller parses and writes as before.
public enum CanonicalJSON {
    public static func isCanonicalObject(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.first == UInt8(ascii: "{") else { return false }
        var scanner = Scanner(bytes: bytes)
        return scanner.value(depth: 0) && scanner.index == bytes.count
    }

    public static func isCanonicalObject(_ data: Data) -> Bool {
        data.withUnsafeBytes { isCanonicalObject($0) }
    }

    /// Below the reader's own nesting limit: deeper documents take the parser's path.
    static let maximumDepth = 32

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        init(bytes: UnsafeRawBufferPointer) {
            self.bytes = bytes
        }

        private var next: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func value(depth: Int) -> Bool {
            guard depth < CanonicalJSON.maximumDepth, let byte = next else { return false }
            switch byte {
            case UInt8(ascii: "{"): return object(depth: depth)
            case UInt8(ascii: "["): return array(depth: depth)
            case UInt8(ascii: "\""): return string(isKey: false) != nil
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
            default: return false
            }
        }

        private mutating func object(depth: Int) -> Bool {
            var previousKey: Range<Int>?
            return members(closing: UInt8(ascii: "}")) { scanner in
                guard scanner.next == UInt8(ascii: "\""), let key = scanner.string(isKey: true) else { return false }
                // Strictly increasing keys: sorted as the writer sorts them (ASCII: by byte), no duplicates.
                if let previousKey, !scanner.precedes(previousKey, key) { return false }
                previousKey = key
                guard scanner.next == UInt8(ascii: ":") else { return false }
                scanner.index += 1
                return scanner.value(depth: depth + 1)
            }
        }

        private mutating func array(depth: Int) -> Bool {
            members(closing: UInt8(ascii: "]")) { $0.value(depth: depth + 1) }
        }

        /// `member` for each member up to `closing`, comma-separated; false at anything else.
        private mutating func members(closing: UInt8, _ member: (inout Scanner) -> Bool) -> Bool {
            index += 1
            if next == closing {
                index += 1
                return true
            }
            while true {
                guard member(&self) else { return false }
                switch next {
                case UInt8(ascii: ","): index += 1
                case closing:
                    index += 1
                    return true
                default: return false
                }
            }
        }

        /// The range of the string's content, when every byte is written as the writer would:
        /// printable ASCII raw, `"` `\` newline, return and tab as short escapes, other control
        /// characters as lowercase `\u00xx`. Keys must need no escape at all.
        private mutating func string(isKey: Bool) -> Range<Int>? {
            index += 1
            let start = index
            while let byte = next {
                switch byte {
                case UInt8(ascii: "\""):
                    index += 1
                    return start..<(index - 1)
                case UInt8(ascii: "\\"):
                    guard !isKey, index + 1 < bytes.count else { return nil }
                    switch bytes[index + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        index += 2
                    case UInt8(ascii: "u"):
                        guard index + 6 <= bytes.count, bytes[index + 2] == UInt8(ascii: "0"), bytes[index + 3] == UInt8(ascii: "0"),
                              let high = Self.lowercaseHex(bytes[index + 4]), let low = Self.lowercaseHex(bytes[index + 5]) else { return nil }
                        let scalar = high << 4 | low
                        // Only control characters, and not the three written short.
                        guard scalar < 0x20, scalar != 0x0a, scalar != 0x0d, scalar != 0x09 else { return nil }
                        index += 6
                    default:
                        return nil
                    }
                case 0..<0x20, 0x80...:
                    return nil
                default:
                    index += 1
                }
            }
            return nil
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
            index += count
            return true
        }

        /// An integer as `String(Int64)` writes it, or a fraction or exponent form that is
        /// exactly the writer's spelling of the double it denotes.
        private mutating func number() -> Bool {
            let start = index
            var isInteger = true
            while let byte = next, Self.isNumberByte(byte) {
                if byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { isInteger = false }
                index += 1
            }
            let token = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
            if isInteger {
                let digits = token.first == UInt8(ascii: "-") ? token.dropFirst() : token[...]
                // "0", or no leading zero and a sign only before a non-zero, within Int64's range.
                guard let first = digits.first, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return false }
                guard first != UInt8(ascii: "0") || (digits.count == 1 && token.count == 1) else { return false }
                return digits.count <= 18 || Int64(String(decoding: token, as: UTF8.self)) != nil
            }
            guard let double = Double(String(decoding: token, as: UTF8.self)), double.isFinite else { return false }
            var written: [UInt8] = []
            JSONWriter.appendDouble(double, to: &written)
            return written.elementsEqual(token)
        }

        private static func isNumberByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): true
            default: false
            }
        }

        private static func lowercaseHex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            default: nil
            }
        }

        private func precedes(_ left: Range<Int>, _ right: Range<Int>) -> Bool {
            UnsafeRawBufferPointer(rebasing: bytes[left]).lexicographicallyPrecedes(UnsafeRawBufferPointer(rebasing: bytes[right]))
        }
    }
}
