import Foundation

/// A type that reads and writes its own JSON member by member, straight from and into bytes,
/// instead of through `Codable`'s containers (a boxed container, a coding path and a dictionary
/// lookup per field, a parsed `JSONValue` tree in front of them). For the types a plugin sends or
/// receives on every call: a slot call's request and answer spent four fifths of its time in
/// `Codable` (BENCHMARKS.md, issue 16).
///
/// A record stays `Codable` (a type only ever encoded or decoded takes the half it needs,
/// `JSONRecordEncodable` or `JSONRecordDecodable`), and `Codable` stays the reference: `JSONCoding` takes the record's
/// path when it succeeds and falls back to `Codable` whenever it does not (a missing field, a
/// wrong type, a non-finite number), so the error messages are the ones `Codable` gives. A record
/// must therefore read and write exactly what its `Codable` conformance does; compare both on a
/// few values in a test (`JSONRecordReader.read` and `JSONRecordWriter.bytes` against
/// `JSONValueDecoder`/`JSONValueEncoder`, as the kit's tests do for the bundled plugins' records).
public typealias JSONRecord = JSONRecordDecodable & JSONRecordEncodable

/// The reading half of `JSONRecord`, for a type that is only ever decoded.
public protocol JSONRecordDecodable: Decodable {
    /// Reads one value where `json` stands. Any error means "not this way": the caller decodes
    /// again with `Codable`, which names the problem. Validate elsewhere, not here.
    init(json: inout JSONRecordReader) throws
}

/// The writing half of `JSONRecord`, for a type that is only ever encoded (an answer).
public protocol JSONRecordEncodable: Encodable {
    /// Writes this value: members in ascending key order (the order the encoder sorts keys to),
    /// optionals left out when nil (as `encodeIfPresent` does).
    func write(json: inout JSONRecordWriter)
}

/// Reads JSON values in place from the bytes of one document. It exists only for the duration of
/// `JSONRecord.init(json:)`: it points into bytes the kit holds for that call.
public struct JSONRecordReader {
    /// Why the record path gave up; the `Codable` path says it in words.
    @usableFromInline
    struct Refusal: Error {
        @usableFromInline init() {}
    }

    @usableFromInline var reader: JSONReader
    private var depth = 0

    init(reader: JSONReader) {
        self.reader = reader
    }

    /// Reads an object, handing each member's key and the reader (standing at its value) to
    /// `member`, which must read or `skip()` the value.
    public mutating func object(_ member: (_ key: String, _ json: inout JSONRecordReader) throws -> Void) throws {
        try enter()
        guard reader.consume(UInt8(ascii: "{")) else { throw Refusal() }
        if !reader.consume(UInt8(ascii: "}")) {
            repeat {
                reader.skipWhitespace()
                guard try reader.peek() == UInt8(ascii: "\"") else { throw Refusal() }
                let key = try reader.readString()
                guard reader.consume(UInt8(ascii: ":")) else { throw Refusal() }
                try member(key, &self)
            } while reader.consume(UInt8(ascii: ","))
            guard reader.consume(UInt8(ascii: "}")) else { throw Refusal() }
        }
        leave()
    }

    /// Reads an array, each element with `element`. (Inlinable, as the other generic members of
    /// the reader and writer, so each plugin specialises them for its types.)
    @inlinable
    public mutating func array<Element>(_ element: (_ json: inout JSONRecordReader) throws -> Element) throws -> [Element] {
        try enter()
        guard reader.consume(UInt8(ascii: "[")) else { throw Refusal() }
        var elements: [Element] = []
        if !reader.consume(UInt8(ascii: "]")) {
            repeat {
                elements.append(try element(&self))
            } while reader.consume(UInt8(ascii: ","))
            guard reader.consume(UInt8(ascii: "]")) else { throw Refusal() }
        }
        leave()
        return elements
    }

    @inlinable
    public mutating func record<Record: JSONRecordDecodable>(_ type: Record.Type) throws -> Record {
        try Record(json: &self)
    }

    @inlinable
    public mutating func records<Record: JSONRecordDecodable>(_ type: Record.Type) throws -> [Record] {
        try array { try Record(json: &$0) }
    }

    public mutating func string() throws -> String {
        reader.skipWhitespace()
        guard try reader.peek() == UInt8(ascii: "\"") else { throw Refusal() }
        return try reader.readString()
    }

    /// A number, integral or not, as `Codable` reads a `Double`.
    public mutating func double() throws -> Double {
        switch try number() {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: throw Refusal()
        }
    }

    /// An integral number that fits, as `Codable` reads an `Int64` (`2.0` is 2, `2.5` is refused).
    public mutating func int64() throws -> Int64 {
        switch try number() {
        case .int(let value): return value
        case .double(let value):
            guard let exact = Int64(exactly: value) else { throw Refusal() }
            return exact
        default: throw Refusal()
        }
    }

    public mutating func int() throws -> Int {
        guard let value = Int(exactly: try int64()) else { throw Refusal() }
        return value
    }

    public mutating func bool() throws -> Bool {
        reader.skipWhitespace()
        switch try reader.peek() {
        case UInt8(ascii: "t"): try reader.readLiteral("true"); return true
        case UInt8(ascii: "f"): try reader.readLiteral("false"); return false
        default: throw Refusal()
        }
    }

    /// nil for `null` (consumed), otherwise the value `read` reads: an optional member.
    @inlinable
    public mutating func optional<Value>(_ read: (_ json: inout JSONRecordReader) throws -> Value) throws -> Value? {
        reader.skipWhitespace()
        if try reader.peek() == UInt8(ascii: "n") {
            try reader.readLiteral("null")
            return nil
        }
        return try read(&self)
    }

    /// Skips a value this record does not read (an unknown member).
    public mutating func skip() throws {
        try reader.skipValue(depth: depth)
    }

    /// A required member's value once the object is read; a missing one sends the caller to `Codable`.
    @inlinable
    public func required<Value>(_ value: Value?) throws -> Value {
        guard let value else { throw Refusal() }
        return value
    }

    private mutating func number() throws -> JSONValue {
        reader.skipWhitespace()
        switch try reader.peek() {
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try reader.readNumber()
        default: throw Refusal()
        }
    }

    @usableFromInline
    mutating func leave() {
        depth -= 1
    }

    @usableFromInline
    mutating func enter() throws {
        depth += 1
        guard depth < JSONReader.maximumDepth else { throw Refusal() }
    }
}

/// Writes JSON values as bytes, the bytes `JSONCoding.encode` writes through `Codable` for the
/// same value: compact, keys as given (a record gives them sorted), numbers as `JSONWriter` writes them.
public struct JSONRecordWriter {
    public private(set) var bytes: [UInt8] = []
    /// A non-finite number was written: JSON has none and `Codable`'s encoder refuses it.
    private(set) var refused = false
    private var needsComma = false
    /// The last key written in the object being written, to check the order in debug builds.
    private var lastKey: StaticString?

    public init() {
        bytes.reserveCapacity(256)
    }

    /// Writes an object whose members `members` writes.
    public mutating func object(_ members: (_ json: inout JSONRecordWriter) -> Void) {
        let (outerComma, outerKey) = (needsComma, lastKey)
        bytes.append(UInt8(ascii: "{"))
        (needsComma, lastKey) = (false, nil)
        members(&self)
        bytes.append(UInt8(ascii: "}"))
        (needsComma, lastKey) = (outerComma, outerKey)
    }

    public mutating func member(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        self.key(key)
        JSONWriter.appendString(value, to: &bytes)
    }

    public mutating func member(_ key: StaticString, _ value: Double?) {
        guard let value else { return }
        self.key(key)
        if !value.isFinite { refused = true }
        JSONWriter.appendDouble(value, to: &bytes)
    }

    public mutating func member(_ key: StaticString, _ value: Int64?) {
        guard let value else { return }
        self.key(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    public mutating func member(_ key: StaticString, _ value: Int?) {
        member(key, value.map(Int64.init))
    }

    /// Writes `key: null`, for a member an answer keeps without a value (where `Codable` encodes
    /// the nil, `encode(_:forKey:)` of an optional, rather than leaving it out).
    public mutating func nullMember(_ key: StaticString) {
        self.key(key)
        bytes.append(contentsOf: "null".utf8)
    }

    public mutating func member(_ key: StaticString, _ value: Bool?) {
        guard let value else { return }
        self.key(key)
        bytes.append(contentsOf: value ? "true".utf8 : "false".utf8)
    }

    @inlinable
    public mutating func member<Record: JSONRecordEncodable>(_ key: StaticString, _ value: Record?) {
        guard let value else { return }
        self.key(key)
        value.write(json: &self)
    }

    @inlinable
    public mutating func member<Record: JSONRecordEncodable>(_ key: StaticString, _ values: [Record]?) {
        guard let values else { return }
        self.key(key)
        append(UInt8(ascii: "["))
        var first = true
        for value in values {
            if !first { append(UInt8(ascii: ",")) }
            first = false
            value.write(json: &self)
        }
        append(UInt8(ascii: "]"))
    }

    @usableFromInline
    mutating func append(_ byte: UInt8) {
        bytes.append(byte)
    }

    @usableFromInline
    mutating func key(_ key: StaticString) {
        assert(lastKey.map { Self.precedes($0, key) } ?? true, "JSONRecord members must be written in ascending key order: \(key)")
        lastKey = key
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
        bytes.append(UInt8(ascii: "\""))
        // Keys are Swift identifiers, which need no escaping.
        bytes.append(contentsOf: UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount))
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// `first < second` as `String` orders them (by Unicode scalar; identifiers are ASCII here).
    private static func precedes(_ first: StaticString, _ second: StaticString) -> Bool {
        first.description < second.description
    }
}

extension JSONRecordDecodable {
    /// The value of a JSON document that holds exactly one of this type, or nil where the
    /// record's path gives up (the caller then decodes with `Codable`).
    static func read(from data: Data) -> Self? {
        data.withUnsafeBytes { raw in
            var json = JSONRecordReader(reader: JSONReader(bytes: raw.bindMemory(to: UInt8.self)))
            guard let value = try? Self(json: &json) else { return nil }
            json.reader.skipWhitespace()
            return json.reader.isAtEnd ? value : nil
        }
    }

}

extension JSONRecordEncodable {
    /// This value's JSON, or nil where `Codable`'s encoder would refuse it.
    var recordBytes: [UInt8]? {
        var json = JSONRecordWriter()
        write(json: &json)
        return json.refused ? nil : json.bytes
    }
}
