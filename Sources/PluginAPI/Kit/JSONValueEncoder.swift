import Foundation

/// Encodes `Encodable` values into a `JSONValue` tree, which `JSONWriter` then writes: the same
/// bytes as `JSONEncoder` with sorted keys and unescaped slashes (default strategies; non-finite
/// numbers are refused the same way), without Foundation's per-call setup. Every answer and
/// service request a plugin sends goes through here.
struct JSONValueEncoder: Encoder {
    let node: Node
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        let root = Node()
        try root.store(value, at: [])
        return root.value
    }

    /// The JSON text of `value`, written straight from the nodes: no `JSONValue` tree (and its
    /// dictionaries, hashed again) between the encoder and the bytes.
    static func encodeJSON<T: Encodable>(_ value: T) throws -> Data {
        let root = Node()
        try root.store(value, at: [])
        var out: [UInt8] = []
        out.reserveCapacity(256)
        root.write(to: &out)
        return Data(out)
    }

    /// One value being built. Containers write into nodes, so nested containers can be filled
    /// in any order, as the `Encoder` protocol allows.
    final class Node {
        /// A member or element: scalars (most fields) are kept inline, without a node of their own.
        enum Child {
            case scalar(JSONValue)
            case node(Node)

            var value: JSONValue {
                switch self {
                case .scalar(let value): return value
                case .node(let node): return node.value
                }
            }

            func write(to out: inout [UInt8]) {
                switch self {
                case .scalar(let value): value.write(to: &out)
                case .node(let node): node.write(to: &out)
                }
            }
        }

        private var scalar: JSONValue = .null
        /// Members in the order they were encoded; of a key encoded twice the last value counts, as
        /// in `JSONEncoder`. A dictionary per object cost hashing and regrowing on every member
        /// (12 % of the price's answer encoding in `perf`).
        private var members: [(key: String, value: Child)]?
        private var elements: [Child]?

        var value: JSONValue {
            if let members { return .object(Dictionary(members.map { ($0.key, $0.value.value) }, uniquingKeysWith: { $1 })) }
            if let elements { return .array(elements.map(\.value)) }
            return scalar
        }

        func write(to out: inout [UInt8]) {
            if let members {
                JSONWriter.appendObject(sorted: Self.sortedKeepingLast(members), to: &out) { $0.write(to: &$1) }
            } else if let elements {
                JSONWriter.appendArray(elements, to: &out) { $0.write(to: &$1) }
            } else {
                scalar.write(to: &out)
            }
        }

        /// The members sorted by key; of a key encoded more than once, the last.
        private static func sortedKeepingLast(_ members: [(key: String, value: Child)]) -> [(key: String, value: Child)] {
            // Ties broken by position, so the last of equal keys sorts last and is the one kept.
            let order = members.indices.sorted { members[$0].key != members[$1].key ? members[$0].key < members[$1].key : $0 < $1 }
            var sorted: [(key: String, value: Child)] = []
            sorted.reserveCapacity(members.count)
            for index in order {
                if let last = sorted.last, last.key == members[index].key { sorted.removeLast() }
                sorted.append(members[index])
            }
            return sorted
        }

        func set(_ value: JSONValue) {
            scalar = value
            members = nil
            elements = nil
        }

        func member(_ key: String) -> Node {
            let child = Node()
            addMember(key, .node(child))
            return child
        }

        func addMember(_ key: String, _ child: Child) {
            if members == nil { members = [] }
            members!.append((key, child))
        }

        func appendElement() -> Node {
            let child = Node()
            addElement(.node(child))
            return child
        }

        func addElement(_ child: Child) {
            if elements == nil { elements = [] }
            elements!.append(child)
        }

        func becomeObject() { if members == nil { members = []; elements = nil } }
        func becomeArray() { if elements == nil { elements = []; members = nil } }
        var count: Int { elements?.count ?? members?.count ?? 0 }

        /// Stores `value`, short-cutting scalars and `JSONValue` (most fields are scalars).
        func store<T: Encodable>(_ value: T, at codingPath: @autoclosure () -> [CodingKey]) throws {
            if let scalar = try Self.scalar(value, at: codingPath()) {
                set(scalar)
            } else {
                try value.encode(to: JSONValueEncoder(node: self, codingPath: codingPath()))
            }
        }

        /// `value` as a member or element: inline when it is a scalar, else a node of its own.
        static func child<T: Encodable>(_ value: T, at codingPath: @autoclosure () -> [CodingKey]) throws -> Child {
            if let scalar = try scalar(value, at: codingPath()) { return .scalar(scalar) }
            let node = Node()
            try value.encode(to: JSONValueEncoder(node: node, codingPath: codingPath()))
            return .node(node)
        }

        /// The JSON of a scalar `value` (string, number, bool, `JSONValue`); nil for anything else.
        static func scalar<T: Encodable>(_ value: T, at codingPath: @autoclosure () -> [CodingKey]) throws -> JSONValue? {
            // Type comparisons, not casts: a metadata pointer check per candidate.
            if T.self == String.self {
                return .string(value as! String)
            } else if T.self == Double.self {
                return try finite(value as! Double, at: codingPath())
            } else if T.self == Int.self {
                return .int(Int64(value as! Int))
            } else if T.self == Int64.self {
                return .int(value as! Int64)
            } else if T.self == Bool.self {
                return .bool(value as! Bool)
            } else if T.self == JSONValue.self {
                return (value as! JSONValue)
            } else if T.self == Float.self {
                let float = value as! Float
                guard float.isFinite else { throw nonFinite(float, at: codingPath()) }
                // Float's own shortest form (`1.1`, not the Double widening `1.100000023841858`).
                return .double(Double(float.description)!)
            }
            return nil
        }

        static func finite(_ double: Double, at codingPath: [CodingKey]) throws -> JSONValue {
            guard double.isFinite else { throw nonFinite(double, at: codingPath) }
            return .double(double)
        }

        static func nonFinite(_ value: Any, at codingPath: [CodingKey]) -> EncodingError {
            .invalidValue(value, .init(codingPath: codingPath, debugDescription: "Unable to encode \(value) directly in JSON."))
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.becomeObject()
        return KeyedEncodingContainer(KeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        node.becomeArray()
        return UnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer { self }
}

extension JSONValueEncoder: SingleValueEncodingContainer {
    func encodeNil() throws { node.set(.null) }
    func encode(_ value: Bool) throws { node.set(.bool(value)) }
    func encode(_ value: String) throws { node.set(.string(value)) }
    func encode(_ value: Double) throws { node.set(try Node.finite(value, at: codingPath)) }
    func encode(_ value: Float) throws { try node.store(value, at: codingPath) }
    func encode(_ value: Int) throws { node.set(.int(Int64(value))) }
    func encode(_ value: Int8) throws { node.set(.int(Int64(value))) }
    func encode(_ value: Int16) throws { node.set(.int(Int64(value))) }
    func encode(_ value: Int32) throws { node.set(.int(Int64(value))) }
    func encode(_ value: Int64) throws { node.set(.int(value)) }
    func encode(_ value: UInt) throws { node.set(Self.unsigned(UInt64(value))) }
    func encode(_ value: UInt8) throws { node.set(.int(Int64(value))) }
    func encode(_ value: UInt16) throws { node.set(.int(Int64(value))) }
    func encode(_ value: UInt32) throws { node.set(.int(Int64(value))) }
    func encode(_ value: UInt64) throws { node.set(Self.unsigned(value)) }
    func encode<T: Encodable>(_ value: T) throws { try node.store(value, at: codingPath) }

    private static func unsigned(_ value: UInt64) -> JSONValue {
        Int64(exactly: value).map(JSONValue.int) ?? .double(Double(value))
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: JSONValueEncoder.Node
    let codingPath: [CodingKey]

    func encodeNil(forKey key: Key) throws { node.addMember(key.stringValue, .scalar(.null)) }

    func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        node.addMember(key.stringValue, try JSONValueEncoder.Node.child(value, at: codingPath + [key]))
    }

    // The common scalars, each its own witness: the generic `encode` above serves them too, but
    // unspecialised (a plugin's synthesized `encode(to:)` reaches it through the container's
    // box), with a dynamic cast per field — most of a service answer's encoding in `perf`.
    func encode(_ value: String, forKey key: Key) throws { node.addMember(key.stringValue, .scalar(.string(value))) }
    func encode(_ value: Bool, forKey key: Key) throws { node.addMember(key.stringValue, .scalar(.bool(value))) }
    func encode(_ value: Int, forKey key: Key) throws { node.addMember(key.stringValue, .scalar(.int(Int64(value)))) }
    func encode(_ value: Int64, forKey key: Key) throws { node.addMember(key.stringValue, .scalar(.int(value))) }
    func encode(_ value: Double, forKey key: Key) throws {
        node.addMember(key.stringValue, .scalar(try JSONValueEncoder.Node.finite(value, at: codingPath + [key])))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        JSONValueEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        JSONValueEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    func superEncoder() -> Encoder {
        JSONValueEncoder(node: node.member("super"), codingPath: codingPath)
    }

    func superEncoder(forKey key: Key) -> Encoder {
        JSONValueEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key])
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let node: JSONValueEncoder.Node
    let codingPath: [CodingKey]

    var count: Int { node.count }

    func encodeNil() throws { node.addElement(.scalar(.null)) }

    func encode<T: Encodable>(_ value: T) throws {
        node.addElement(try JSONValueEncoder.Node.child(value, at: codingPath + [IndexKey(count)]))
    }

    // The common scalars as their own witnesses, as in `KeyedContainer`.
    func encode(_ value: String) throws { node.addElement(.scalar(.string(value))) }
    func encode(_ value: Bool) throws { node.addElement(.scalar(.bool(value))) }
    func encode(_ value: Int) throws { node.addElement(.scalar(.int(Int64(value)))) }
    func encode(_ value: Int64) throws { node.addElement(.scalar(.int(value))) }
    func encode(_ value: Double) throws { node.addElement(.scalar(try JSONValueEncoder.Node.finite(value, at: codingPath + [IndexKey(count)]))) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = codingPath + [IndexKey(count)]
        return JSONValueEncoder(node: node.appendElement(), codingPath: path).container(keyedBy: keyType)
    }

    func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let path = codingPath + [IndexKey(count)]
        return JSONValueEncoder(node: node.appendElement(), codingPath: path).unkeyedContainer()
    }

    func superEncoder() -> Encoder {
        let path = codingPath + [IndexKey(count)]
        return JSONValueEncoder(node: node.appendElement(), codingPath: path)
    }
}
