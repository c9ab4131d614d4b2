import Foundation

/// Writes JSON text directly into bytes: compact, keys sorted, slashes unescaped, numbers as
/// Foundation's `JSONEncoder` writes them (`100.0` → `100`), so switching a payload from the
/// encoder to the writer changes no byte. Bytes, not a `String`: appending to a string pays its
/// capacity and flag bookkeeping on every piece, measurable on every row and answer a plugin
/// writes (the slot-call profile). The `String` forms remain for callers that hold one.
public enum JSONWriter {
    /// Appends `string` as a JSON string literal (RFC 8259 escaping).
    public static func appendString(_ string: String, to out: inout [UInt8]) {
        out.append(quote)
        var string = string
        string.withUTF8 { utf8 in
            var clean = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == quote || byte == backslash else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean..<index]))
                appendEscape(of: byte, to: &out)
                clean = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[clean...]))
        }
        out.append(quote)
    }

    /// Appends a finite number the way `JSONEncoder` does; non-finite numbers are not JSON and
    /// become `null`.
    public static func appendDouble(_ value: Double, to out: inout [UInt8]) {
        guard value.isFinite else {
            out.append(contentsOf: "null".utf8)
            return
        }
        let text = value.description
        out.append(contentsOf: text.hasSuffix(".0") ? text.utf8.dropLast(2) : text.utf8[...])
    }

    public static func appendString(_ string: String, to out: inout String) {
        var bytes: [UInt8] = []
        appendString(string, to: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }

    public static func appendDouble(_ value: Double, to out: inout String) {
        var bytes: [UInt8] = []
        appendDouble(value, to: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }

    public static func quoted(_ string: String) -> String {
        var out: [UInt8] = []
        appendString(string, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
    private static let hex = Array("0123456789abcdef".utf8)

    private static func appendEscape(of byte: UInt8, to out: inout [UInt8]) {
        out.append(backslash)
        switch byte {
        case quote, backslash: out.append(byte)
        case UInt8(ascii: "\n"): out.append(UInt8(ascii: "n"))
        case UInt8(ascii: "\r"): out.append(UInt8(ascii: "r"))
        case UInt8(ascii: "\t"): out.append(UInt8(ascii: "t"))
        default:
            out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xf)]])
        }
    }
}

extension JSONValue {
    /// The value as compact JSON text with sorted keys.
    public var jsonText: String { String(decoding: jsonBytes, as: UTF8.self) }

    public var jsonData: Data { Data(jsonBytes) }

    private var jsonBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(to: &out)
        return out
    }

    public func write(to out: inout String) {
        out += jsonText
    }

    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: value ? "true".utf8 : "false".utf8)
        case .int(let value): out.append(contentsOf: String(value).utf8)
        case .double(let value): JSONWriter.appendDouble(value, to: &out)
        case .string(let value): JSONWriter.appendString(value, to: &out)
        case .array(let elements): JSONWriter.appendArray(elements, to: &out) { $0.write(to: &$1) }
        case .object(let members): JSONWriter.appendObject(members, to: &out) { $0.write(to: &$1) }
        }
    }
}

extension JSONWriter {
    /// `[e,…]`, each element written by `write`.
    static func appendArray<Element>(_ elements: [Element], to out: inout [UInt8], _ write: (Element, inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            write(element, &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// `{"k":v,…}` with the keys sorted, each value written by `write`.
    static func appendObject<Value>(_ members: [String: Value], to out: inout [UInt8], _ write: (Value, inout [UInt8]) -> Void) {
        // Sorted pairs, not sorted keys looked up again: one hash less per member.
        appendObject(sorted: members.sorted(by: { $0.key < $1.key }), to: &out, write)
    }

    /// `{"k":v,…}` from members already sorted by key, each value written by `write`.
    static func appendObject<Value>(sorted members: [(key: String, value: Value)], to out: inout [UInt8],
                                    _ write: (Value, inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: "{"))
        for (index, member) in members.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            appendString(member.key, to: &out)
            out.append(UInt8(ascii: ":"))
            write(member.value, &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}
