import Foundation
@testable import StelltronPluginKit
import Testing

/// The kit's JSON reader, writer and decoder, which replace Foundation's coders on the ABI's hot
/// paths: they must accept exactly JSON, write what `JSONEncoder` writes and fail with the same
/// readable messages.
@Suite("kit JSON")
struct KitJSONTests {
    @Test func readsEveryKindOfValue() throws {
        let value = try JSONValue.parse(#" {"s":"a\"b\\c\/d\n\u00e9\ud83d\ude00","i":-42,"z":-0,"big":9223372036854775807,"huge":9223372036854775808,"d":-3.5e2,"e":1E3,"t":true,"f":false,"n":null,"a":[[],{}]} "#)
        #expect(value["s"] == .string("a\"b\\c/d\né😀"))
        #expect(value["i"] == .int(-42))
        #expect(value["z"] == .int(0))
        #expect(value["big"] == .int(Int64.max))
        #expect(value["huge"] == .double(9223372036854775808))
        #expect(value["d"] == .double(-350))
        #expect(value["e"] == .double(1000))
        #expect(value["t"] == .bool(true))
        #expect(value["f"] == .bool(false))
        #expect(value["n"] == .null)
        #expect(value["a"] == .array([.array([]), .object([:])]))
    }

    @Test func refusesWhatIsNotJSON() {
        let nested = String(repeating: "[", count: JSONReader.maximumDepth + 1) + String(repeating: "]", count: JSONReader.maximumDepth + 1)
        let bad = ["", " ", "01", "1.", ".5", "+1", "-", "1e", "[1,]", "{\"a\":1,}", "[1] x", "\"\u{01}\"", #""\ud800""#,
                   #""\udc00""#, #""\x""#, #""\u12"#, "1e999", "nul", "{'a':1}", "\"open", "{\"a\" 1}", "[1 2]", nested, "NaN"]
        for text in bad {
            #expect(throws: JSONParseError.self, "\(text.prefix(20))") { try JSONValue.parse(text) }
        }
    }

    @Test func writesWhatJSONEncoderWrites() throws {
        var generator = SystemRandomNumberGenerator()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for _ in 0..<300 {
            let value = Self.randomValue(depth: 0, using: &generator)
            let written = value.jsonText
            #expect(written == String(decoding: try encoder.encode(value), as: UTF8.self))
            #expect(Self.numbersAsRead(try JSONValue.parse(written)) == Self.numbersAsRead(value))
        }
    }

    struct Node: Codable, Equatable {
        var uid: String
        var voltage: Double?
        var count: Int32
    }

    struct Ping: Codable, Equatable {
        var device_id: String
        var nodes: [Node]
        var tags: [String: Int]?
        var ok: Bool
    }

    @Test func decodesLikeJSONDecoder() throws {
        let text = #"{"device_id":"pi","nodes":[{"uid":"A","voltage":3,"count":2},{"uid":"B","voltage":null,"count":7.0}],"tags":{"x":1},"ok":true,"extra":[1]}"#
        let ours = try JSONCoding.decode(Ping.self, from: Data(text.utf8))
        #expect(ours == (try JSONDecoder().decode(Ping.self, from: Data(text.utf8))))
        #expect(ours.nodes[1].count == 7)
    }

    @Test func decodingErrorsNameTheField() {
        let cases: [(String, String)] = [
            (#"{"nodes":[],"ok":true}"#, "missing field 'device_id'"),
            (#"{"device_id":"p","nodes":[{"uid":"A","count":1},{"uid":5,"count":1}],"ok":true}"#, "field 'nodes.1.uid' must be a string"),
            (#"{"device_id":null,"nodes":[],"ok":true}"#, "field 'device_id' must be a string, not null"),
            (#"{"device_id":"p","nodes":[{"uid":"A","count":1.5}],"ok":true}"#, "field 'nodes.0.count' must be an integer"),
            (#"{"device_id":"p","nodes":[{"uid":"A","count":3000000000}],"ok":true}"#, "field 'nodes.0.count' is out of range"),
            (#"{"device_id":"p","nodes":[],"ok":1}"#, "field 'ok' must be a boolean"),
            (#"{"device_id":"p","nodes":{},"ok":true}"#, "field 'nodes' must be a JSON array"),
            (#"[1]"#, "request body must be a JSON object"),
            (#"{"device_id":"p""#, "invalid JSON body"),
            ("", "request body must be a JSON object"),
        ]
        for (body, message) in cases {
            do {
                _ = try JSONCoding.decodeBody(Ping.self, from: Data(body.utf8))
                Issue.record("accepted \(body)")
            } catch let error as PluginError {
                #expect(error.message == message, "\(body)")
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }

    struct Levels: Decodable, Equatable {
        var names: [String]
        var levels: [Double]
        var counts: [Int]
        var ids: [Int64]
        var flags: [Bool]
        var on: Bool?
        var big: Int64?
        var share: Double?
    }

    /// Arrays of scalars and optional scalars (each decoded by a witness of its own, not the
    /// generic one): the values `JSONDecoder` gives, and failures where it fails, naming the field.
    @Test func decodesScalarArraysAndOptionalsLikeJSONDecoder() throws {
        let good = [
            #"{"names":["a","é"],"levels":[1,2.5],"counts":[3,4.0],"ids":[9223372036854775807],"flags":[true,false],"on":false,"big":-1,"share":0.5}"#,
            #"{"names":[],"levels":[],"counts":[],"ids":[],"flags":[],"on":null}"#,
        ]
        for text in good {
            #expect(try JSONCoding.decode(Levels.self, from: Data(text.utf8)) == (try JSONDecoder().decode(Levels.self, from: Data(text.utf8))))
        }
        let bad: [(String, String)] = [
            (#"{"names":["a",1],"levels":[],"counts":[],"ids":[],"flags":[]}"#, "field 'names.1' must be a string"),
            (#"{"names":[],"levels":[1,"2"],"counts":[],"ids":[],"flags":[]}"#, "field 'levels.1' must be a number"),
            (#"{"names":[],"levels":[],"counts":[1.5],"ids":[],"flags":[]}"#, "field 'counts.0' must be an integer"),
            (#"{"names":[],"levels":[],"counts":[],"ids":[9223372036854775808],"flags":[]}"#, "field 'ids.0' is out of range"),
            (#"{"names":[],"levels":[],"counts":[],"ids":[],"flags":[0]}"#, "field 'flags.0' must be a boolean"),
            (#"{"names":[],"levels":[],"counts":[],"ids":[],"flags":[],"on":"yes"}"#, "field 'on' must be a boolean"),
            (#"{"names":[],"levels":[],"counts":[],"ids":[],"flags":[],"big":0.5}"#, "field 'big' must be an integer"),
            (#"{"names":[],"levels":[],"counts":[],"ids":[],"flags":[],"share":true}"#, "field 'share' must be a number"),
        ]
        for (text, message) in bad {
            #expect(throws: (any Error).self, "\(text)") { try JSONDecoder().decode(Levels.self, from: Data(text.utf8)) }
            do {
                _ = try JSONCoding.decodeBody(Levels.self, from: Data(text.utf8))
                Issue.record("accepted \(text)")
            } catch let error as PluginError {
                #expect(error.message == message, "\(text)")
            }
        }
    }

    struct Answer: Encodable {
        enum Side: String, Encodable { case buy, sell }
        struct Leg: Encodable { let uid: String; let share: Float; let note: String? }
        let id: Int64
        let price: Double
        let side: Side
        let legs: [Leg]
        let tags: [String: Int]
        let matrix: [[Double]]
        let missing: String?
        let flag: Bool
        let raw: JSONValue
        let small: UInt8
        let date: Date
    }

    struct Twice: Encodable {
        enum Keys: String, CodingKey { case z, a, m }
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(1, forKey: .z)
            var nested = container.nestedContainer(keyedBy: Keys.self, forKey: .m)
            try nested.encode("inner", forKey: .a)
            try container.encode("first", forKey: .a)
            try container.encode("second", forKey: .a)
            try nested.encode(true, forKey: .z)
        }
    }

    @Test func encodesWhatJSONEncoderEncodes() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let answers = [
            Answer(id: 7, price: 9.02, side: .sell, legs: [.init(uid: "A/1", share: 1.1, note: nil), .init(uid: "é\"", share: 0, note: "x\n")],
                   tags: ["b": 2, "a": 1], matrix: [[1, 2.5], []], missing: nil, flag: true, raw: .object(["k": .array([.int(1), .string("two"), .null])]),
                   small: 255, date: Date(timeIntervalSince1970: 1_700_000_000.25)),
            Answer(id: -1, price: 100, side: .buy, legs: [], tags: [:], matrix: [], missing: "here", flag: false, raw: .null,
                   small: 0, date: Date(timeIntervalSinceReferenceDate: 0)),
        ]
        for answer in answers {
            #expect(String(decoding: try JSONCoding.encode(answer), as: UTF8.self) == String(decoding: try encoder.encode(answer), as: UTF8.self))
        }
        // A key encoded twice, and members encoded out of order with nested containers between.
        #expect(String(decoding: try JSONCoding.encode(Twice()), as: UTF8.self) == String(decoding: try encoder.encode(Twice()), as: UTF8.self))
        #expect(throws: EncodingError.self) { try JSONCoding.encode(["price": Double.nan]) }
        #expect(throws: EncodingError.self) { try JSONCoding.encode([1, -Double.infinity]) }
        #expect(throws: EncodingError.self) { try JSONCoding.encode([Float.infinity]) }
    }

    /// JSON values, objects, arrays and lists of rows take the kit's shortcut (no encoder): the
    /// same bytes as `JSONEncoder`, an empty list of rows included.
    @Test func jsonValuesAndRowsEncodeWhatJSONEncoderEncodes() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func same<T: Encodable>(_ value: T) throws {
            #expect(String(decoding: try JSONCoding.encode(value), as: UTF8.self) == String(decoding: try encoder.encode(value), as: UTF8.self))
        }
        let row: [String: JSONValue] = ["uid": "A/1", "soc": .double(41.5), "n": .int(-3), "ip": .null, "nested": .array([.bool(true), .object(["z": "é\""])])]
        try same([row, ["b": .int(1), "a": .string("x\n")]])
        try same([[String: JSONValue]]())
        try same([JSONValue]())
        try same([JSONValue.int(1), .string("two"), .null])
        try same(row)
        try same(JSONValue.object(row))
        try same([String: JSONValue]())
    }

    struct Reading: Decodable, Equatable {
        struct Node: Decodable, Equatable { var uid: String; var ip: String? }
        var device_id: String
        var voltage: Double?
        var count: Int?
        var nodes: [Node]?
    }

    @Test func fieldsByHandFailLikeDecodable() throws {
        func byHand(_ body: JSONValue) throws -> Reading {
            let fields = try JSONFields(body)
            return Reading(device_id: try fields.string("device_id"), voltage: try fields.optionalDouble("voltage"),
                           count: try fields.optionalInt("count"),
                           nodes: try fields.optionalObjects("nodes")?.map { .init(uid: try $0.string("uid"), ip: try $0.optionalString("ip")) })
        }
        let bodies = [
            #"{"device_id":"p","voltage":3,"count":2,"nodes":[{"uid":"A"},{"uid":"B","ip":null}]}"#, #"{"device_id":"p"}"#,
            #"{}"#, #"{"device_id":null}"#, #"{"device_id":7}"#, #"{"device_id":"p","voltage":"3"}"#, #"{"device_id":"p","count":2.5}"#,
            #"{"device_id":"p","count":1e30}"#, #"{"device_id":"p","nodes":{}}"#, #"{"device_id":"p","nodes":[{"ip":"x"}]}"#,
            #"{"device_id":"p","nodes":[{"uid":"A"},7]}"#, #"{"device_id":"p","nodes":[{"uid":"A","ip":false}]}"#, #"[]"#, #""x""#,
        ]
        for body in bodies {
            let value = try JSONValue.parse(body)
            let viaDecodable = Result { try JSONCoding.decodeBody(Reading.self, from: value) }
            let viaFields = Result { try byHand(value) }
            switch (viaDecodable, viaFields) {
            case (.success(let a), .success(let b)): #expect(a == b, "\(body)")
            case (.failure(let a as PluginError), .failure(let b as PluginError)): #expect(a.message == b.message, "\(body)")
            default: Issue.record("\(body): \(viaDecodable) vs \(viaFields)")
            }
        }
    }

    /// Integral doubles are written without a fraction (`3.0` → `3`), so they read back as
    /// integers: compare values with that rule applied.
    static func numbersAsRead(_ value: JSONValue) -> JSONValue {
        switch value {
        case .double(let double) where double.rounded() == double && abs(double) < 9.2e18: return .int(Int64(double))
        case .array(let elements): return .array(elements.map(numbersAsRead))
        case .object(let members): return .object(members.mapValues(numbersAsRead))
        default: return value
        }
    }

    static func randomValue(depth: Int, using generator: inout SystemRandomNumberGenerator) -> JSONValue {
        let strings = ["", "a", "é/\\\"\n\t\u{01}\u{1f}", "😀 x", "key with spaces", "</script>"]
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .int(Int64.random(in: Int64.min...Int64.max, using: &generator) >> Int64.random(in: 0..<63, using: &generator))
        case 3:
            let magnitude = Double.random(in: -1...1, using: &generator) * pow(10, Double(Int.random(in: -30...30, using: &generator)))
            return .double(Bool.random(using: &generator) ? magnitude.rounded() : magnitude)
        case 4: return .string(strings.randomElement(using: &generator)!)
        case 5: return .array((0..<Int.random(in: 0..<4, using: &generator)).map { _ in randomValue(depth: depth + 1, using: &generator) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0..<4, using: &generator) {
                members[strings.randomElement(using: &generator)! + String(Int.random(in: 0..<9, using: &generator))] = randomValue(depth: depth + 1, using: &generator)
            }
            return .object(members)
        }
    }

    /// The kit's timestamps are what Foundation's ISO 8601 style writes.
    @Test func timestampsAreFoundationsISO8601() {
        for seconds in stride(from: -2_000_000_000.0, to: 4_000_000_000, by: 7_777_777.7) + [0, 59.999, 1_796_350_627, 253_402_300_799] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(Timestamp.iso8601(date) == date.formatted(.iso8601), "\(seconds)")
        }
    }
}
