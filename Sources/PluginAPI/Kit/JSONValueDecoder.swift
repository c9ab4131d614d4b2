import Foundation

/// Decodes `Decodable` types from a parsed `JSONValue`, with `JSONDecoder`'s rules (default key
/// and date strategies; integers from integral numbers only; booleans only from `true`/`false`)
/// and the same `DecodingError`s, so error messages do not change. Request bodies and service
/// answers are decoded on every call; this avoids Foundation's per-call setup and its
/// byte-level re-scanning of the document for each field.
struct JSONValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ value: JSONValue, codingPath: [CodingKey] = []) {
        self.value = value
        self.codingPath = codingPath
    }

    static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try JSONValueDecoder(value).unwrap(type)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw mismatch([String: Any].self, value)
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw mismatch([Any].self, value)
        }
        return UnkeyedContainer(elements: elements, codingPath: codingPath)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer { self }

    /// Decodes `type` from this decoder's value, short-cutting the scalar types and `JSONValue`.
    func unwrap<T: Decodable>(_ type: T.Type) throws -> T {
        if let scalar = try Self.scalar(type, value, at: codingPath) { return scalar }
        return try T(from: self)
    }

    /// `value` as `type` when `type` is a scalar (or `JSONValue`), nil for any other type. Most
    /// fields are scalars: this skips creating a decoder, and its coding path, for each of them.
    static func scalar<T>(_ type: T.Type, _ value: JSONValue, at path: @autoclosure () -> [CodingKey]) throws -> T? {
        if type == String.self { return (try string(value, at: path()) as! T) }
        if type == Double.self { return (try double(value, at: path()) as! T) }
        if type == Int.self { return (try integer(Int.self, value, at: path()) as! T) }
        if type == Int64.self { return (try integer(Int64.self, value, at: path()) as! T) }
        if type == Bool.self { return (try bool(value, at: path()) as! T) }
        if type == JSONValue.self { return (value as! T) }
        return nil
    }

    static func string(_ value: JSONValue, at path: @autoclosure () -> [CodingKey]) throws -> String {
        guard case .string(let string) = value else { throw mismatch(String.self, value, at: path()) }
        return string
    }

    static func double(_ value: JSONValue, at path: @autoclosure () -> [CodingKey]) throws -> Double {
        switch value {
        case .double(let double): return double
        case .int(let int): return Double(int)
        default: throw mismatch(Double.self, value, at: path())
        }
    }

    static func bool(_ value: JSONValue, at path: @autoclosure () -> [CodingKey]) throws -> Bool {
        guard case .bool(let bool) = value else { throw mismatch(Bool.self, value, at: path()) }
        return bool
    }

    func mismatch(_ type: Any.Type, _ found: JSONValue) -> DecodingError {
        Self.mismatch(type, found, at: codingPath)
    }

    static func mismatch(_ type: Any.Type, _ found: JSONValue, at codingPath: [CodingKey]) -> DecodingError {
        if case .null = found {
            return .valueNotFound(type, .init(codingPath: codingPath, debugDescription: "Expected \(type) value but found null instead."))
        }
        return .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "Expected to decode \(type) but found \(found.kindName) instead."))
    }

    /// An integer from an integral number that fits `type`, as `JSONDecoder` reads one.
    static func integer<T: FixedWidthInteger>(_ type: T.Type, _ value: JSONValue, at codingPath: @autoclosure () -> [CodingKey]) throws -> T {
        let exact: T?
        switch value {
        case .int(let int): exact = T(exactly: int)
        case .double(let double) where double.rounded() == double: exact = T(exactly: double)
        default: throw mismatch(type, value, at: codingPath())
        }
        guard let exact else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath(), debugDescription: "Number \(value.jsonText) does not fit in \(type)."))
        }
        return exact
    }
}

extension JSONValueDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }

    // The scalar rules live in `scalar(_:_:at:)`, which answers for these types.
    func decode(_ type: Bool.Type) throws -> Bool { try Self.scalar(type, value, at: codingPath)! }
    func decode(_ type: String.Type) throws -> String { try Self.scalar(type, value, at: codingPath)! }
    func decode(_ type: Double.Type) throws -> Double { try Self.scalar(type, value, at: codingPath)! }

    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try unwrap(type) }

    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        try Self.integer(type, value, at: codingPath)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let codingPath: [CodingKey]

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try member(key) { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let value = try member(key)
        if let scalar = try JSONValueDecoder.scalar(type, value, at: codingPath + [key]) { return scalar }
        return try T(from: JSONValueDecoder(value, codingPath: codingPath + [key]))
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = present(key) else { return nil }
        if let scalar = try JSONValueDecoder.scalar(type, value, at: codingPath + [key]) { return scalar }
        return try T(from: JSONValueDecoder(value, codingPath: codingPath + [key]))
    }

    // The common scalars, each its own witness: the generic `decode` above serves them too, but
    // unspecialised (a plugin's synthesized `init(from:)` reaches it through the container's
    // box), with a dynamic cast per field — most of a service call's decoding in `perf`.
    // `decodeIfPresent` of a scalar would otherwise be the standard library's default: three
    // lookups (`contains`, `decodeNil`, `decode`) instead of one.
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try JSONValueDecoder.string(member(key), at: codingPath + [key]) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try JSONValueDecoder.double(member(key), at: codingPath + [key]) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try JSONValueDecoder.bool(member(key), at: codingPath + [key]) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try JSONValueDecoder.integer(type, member(key), at: codingPath + [key]) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try JSONValueDecoder.integer(type, member(key), at: codingPath + [key]) }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try present(key).map { try JSONValueDecoder.string($0, at: codingPath + [key]) }
    }

    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        try present(key).map { try JSONValueDecoder.double($0, at: codingPath + [key]) }
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        try present(key).map { try JSONValueDecoder.bool($0, at: codingPath + [key]) }
    }

    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        try present(key).map { try JSONValueDecoder.integer(type, $0, at: codingPath + [key]) }
    }

    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        try present(key).map { try JSONValueDecoder.integer(type, $0, at: codingPath + [key]) }
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try JSONValueDecoder(try member(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try JSONValueDecoder(try member(key), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder {
        JSONValueDecoder(members["super"] ?? .null, codingPath: codingPath)
    }

    func superDecoder(forKey key: Key) throws -> Decoder {
        JSONValueDecoder(members[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }

    /// The member under `key`, nil when it is missing or null (what `decodeIfPresent` reads).
    private func present(_ key: Key) -> JSONValue? {
        guard let value = members[key.stringValue] else { return nil }
        if case .null = value { return nil }
        return value
    }

    private func member(_ key: Key) throws -> JSONValue {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key.stringValue)."))
        }
        return value
    }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let codingPath: [CodingKey]
    private(set) var currentIndex = 0

    init(elements: [JSONValue], codingPath: [CodingKey]) {
        self.elements = elements
        self.codingPath = codingPath
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func decodeNil() throws -> Bool {
        guard case .null = try current(Any?.self) else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let decoded = try JSONValueDecoder(try current(type), codingPath: codingPath + [IndexKey(currentIndex)]).unwrap(type)
        currentIndex += 1
        return decoded
    }

    // The common scalars as their own witnesses, as in `KeyedContainer`.
    mutating func decode(_ type: String.Type) throws -> String { try next { try JSONValueDecoder.string($0, at: $1()) } }
    mutating func decode(_ type: Double.Type) throws -> Double { try next { try JSONValueDecoder.double($0, at: $1()) } }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next { try JSONValueDecoder.bool($0, at: $1()) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try next { try JSONValueDecoder.integer(type, $0, at: $1()) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next { try JSONValueDecoder.integer(type, $0, at: $1()) } }

    /// Reads the current element with `read` (given it and its coding path) and moves past it.
    private mutating func next<T>(_ read: (JSONValue, () -> [CodingKey]) throws -> T) throws -> T {
        let path = { codingPath + [IndexKey(currentIndex)] }
        let decoded = try read(try current(T.self), path)
        currentIndex += 1
        return decoded
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let container = try JSONValueDecoder(try current(type), codingPath: codingPath + [IndexKey(currentIndex)]).container(keyedBy: type)
        currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        let container = try JSONValueDecoder(try current([Any].self), codingPath: codingPath + [IndexKey(currentIndex)]).unkeyedContainer()
        currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> Decoder {
        let decoder = JSONValueDecoder(try current(Any.self), codingPath: codingPath + [IndexKey(currentIndex)])
        currentIndex += 1
        return decoder
    }

    private func current(_ type: Any.Type) throws -> JSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath + [IndexKey(currentIndex)], debugDescription: "Unkeyed container is at end."))
        }
        return elements[currentIndex]
    }
}

/// The coding key of an array element (for the decoder's and the encoder's error paths).
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue ?? 0)" }

    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

extension JSONValue {
    /// How a decoding error names what it found.
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "a dictionary"
        }
    }
}
