import Foundation
import StelltronHost
import StelltronPluginKit
import Testing

/// The event path's shortcut: bytes it calls canonical must be exactly what parsing and writing
/// them back gives, and what the kit writes must be recognised (or the shortcut never helps).
@Suite("Canonical JSON")
struct CanonicalJSONTests {
    /// Values as plugins emit them: nested, escaped, every number form the writer produces.
    static let values: [JSONValue] = [
        .object([:]),
        .object(["a": .int(1), "b": .array([]), "c": .object([:])]),
        .object(["voltage": .double(3.92), "soc": .double(72.4), "uid": .string("NODE_A"), "n": .int(-42), "big": .int(Int64.max)]),
        .object(["tiny": .double(1e-7), "huge": .double(1.7976931348623157e308), "neg": .double(-0.5), "whole": .double(100),
                 "third": .double(1.0 / 3), "small": .double(5e-324), "zero": .double(0)]),
        .object(["s": .string("quote \" backslash \\ newline \n return \r tab \t bell \u{07} unit \u{1f} slash / del \u{7f}")]),
        .object(["nested": .array([.null, .bool(true), .bool(false), .object(["x": .array([.int(0), .double(2.5)])])])]),
        .object(["é": .string("non-ASCII key"), "v": .string("😀")]),
        .object(["A": .int(1), "B": .int(2), "a": .int(3), "_": .int(4), "a.b": .int(5), "a_b": .int(6)]),
    ]

    /// Spellings that parse to the same values but are not what the writer writes (`-0`, the
    /// writer's spelling of -0.0, parses back as the integer 0).
    static let others = [
        #"{ "a":1}"#, "{\"a\":1}\n", #"{"b":1,"a":2}"#, #"{"a":1,"a":2}"#, #"{"a":1.50}"#, #"{"a":1E5}"#, #"{"a":1e5}"#,
        #"{"a":100.0}"#, #"{"a":-0}"#, #"{"a":0.0}"#, #"{"a":"\/"}"#, #"{"a":"\u0041"}"#, #"{"a":"\u000A"}"#, #"{"a":"\u001F"}"#,
        #"{"\u0061":1}"#, #"{"a":"\n"}"#.replacingOccurrences(of: "\\n", with: "\n"), #"{"a":[1 ,2]}"#, #"{"a":01}"#,
        #"{"a":1e999}"#, #"{"a":NaN}"#, #"{"a":tru}"#, #"{"a":1}x"#, #"[1]"#, #"{"a":"\ud800"}"#, #"{"a":1,}"#, #"{"a"}"#,
        #"{"a":9223372036854775808}"#, #"{"a":-9223372036854775809}"#, #"{"a":1.}"#, #"{"a":-}"#, #"{"a":"x"#,
        String(repeating: #"{"a":"#, count: 40) + "1" + String(repeating: "}", count: 40),
    ]

    @Test func whatTheKitWritesIsRecognised() throws {
        for value in Self.values {
            let written = value.jsonData
            let hasNonASCII = written.contains { $0 >= 0x80 }
            #expect(CanonicalJSON.isCanonicalObject(written) == !hasNonASCII, "\(String(decoding: written, as: UTF8.self))")
        }
    }

    @Test func onlyCanonicalBytesAreRecognised() throws {
        let candidates = Self.values.map(\.jsonData) + Self.others.map { Data($0.utf8) }
        for candidate in candidates where CanonicalJSON.isCanonicalObject(candidate) {
            let rewritten = try JSONValue.parse(candidate).jsonData
            #expect(rewritten == candidate, "\(String(decoding: candidate, as: UTF8.self))")
        }
        for other in Self.others {
            #expect(!CanonicalJSON.isCanonicalObject(Data(other.utf8)), "\(other)")
        }
    }

    /// Every prefix and every one-byte change of a canonical document: recognised only if it is
    /// still exactly canonical.
    @Test func damagedDocumentsAreNotRecognised() throws {
        let document = Self.values[3].jsonData
        let bytes = Array(document)
        var variants: [[UInt8]] = (0..<bytes.count).map { Array(bytes[..<$0]) }
        for position in bytes.indices {
            for replacement in [UInt8(ascii: " "), UInt8(ascii: "0"), UInt8(ascii: "\""), UInt8(ascii: ","), UInt8(ascii: "e"), 0x0a, 0xc3] {
                var changed = bytes
                changed[position] = replacement
                variants.append(changed)
            }
        }
        for variant in variants where CanonicalJSON.isCanonicalObject(Data(variant)) {
            let rewritten = try JSONValue.parse(Data(variant)).jsonData
            #expect(Array(rewritten) == variant, "\(String(decoding: variant, as: UTF8.self))")
        }
    }
}
