import Foundation

/// The kit's one place for JSON: encoders shared by every plugin entry point, and decoding
/// errors turned into messages an API caller can act on.
public enum JSONCoding {
    /// Compact JSON with sorted keys and unescaped slashes: the bytes `JSONEncoder` writes with
    /// `[.sortedKeys, .withoutEscapingSlashes]`, through `JSONValueEncoder` and `JSONWriter`.
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        // JSONValue trees (the usual dynamic payloads and answers, rows among them) need no encoder
        // at all. Told apart by their static type: `as? [JSONValue]` casts an array element by
        // element (most of encoding a list of rows), and succeeds for any empty array.
        if T.self == JSONValue.self { return (value as! JSONValue).jsonData }
        if T.self == [String: JSONValue].self { return JSONValue.object(value as! [String: JSONValue]).jsonData }
        if T.self == [JSONValue].self { return JSONValue.array(value as! [JSONValue]).jsonData }
        if T.self == [[String: JSONValue]].self {
            return JSONValue.array((value as! [[String: JSONValue]]).map(JSONValue.object)).jsonData
        }
        if let record = value as? any JSONRecordEncodable, let bytes = record.recordBytes { return Data(bytes) }
        return try JSONValueEncoder.encodeJSON(value)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        if let record = readRecord(type, from: data) { return record }
        return try JSONValueDecoder.decode(type, from: try JSONValue.parse(data))
    }

    /// Decodes a request body; any failure is a 400 naming the field and the problem.
    public static func decodeBody<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        if let record = readRecord(type, from: data) { return record }
        return try decodeBody(type, from: try parseBody(data))
    }

    /// `type` read by its own `JSONRecord` reader when it has one and the reader succeeds; nil
    /// sends the caller to `Codable`, which also words any error.
    private static func readRecord<T: Decodable>(_ type: T.Type, from data: Data) -> T? {
        guard let recordType = type as? any JSONRecordDecodable.Type, let record = recordType.read(from: data) else { return nil }
        return (record as! T)
    }

    /// Parses a request body once, for handlers that read it more than one way.
    public static func parseBody(_ data: Data) throws -> JSONValue {
        if data.isEmpty { throw PluginError.badRequest("request body must be a JSON object") }
        do {
            return try JSONValue.parse(data)
        } catch {
            throw PluginError.badRequest("invalid JSON body")
        }
    }

    /// Decodes an already parsed body; any failure is a 400 naming the field and the problem.
    public static func decodeBody<T: Decodable>(_ type: T.Type, from body: JSONValue) throws -> T {
        do {
            return try JSONValueDecoder.decode(type, from: body)
        } catch let error as DecodingError {
            throw PluginError.badRequest(describe(error))
        }
    }

    /// The `JSONValue` tree of an `Encodable` value, for embedding it in another value.
    public static func value<T: Encodable>(of value: T) throws -> JSONValue {
        try JSONValueEncoder.encode(value)
    }

    public static func errorBody(_ message: String) -> Data {
        Data("{\"error\":\(JSONWriter.quoted(message))}".utf8)
    }

    /// A decoding error in words an API caller (or an operator reading a config error) can act on:
    /// the one wording the kit, the host's routes and its configuration use.
    public static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [CodingKey]) -> String {
            codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "missing field '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)'"
        case .typeMismatch(let type, let context) where context.codingPath.isEmpty:
            return "request body must be \(typeName(type))"
        case .typeMismatch(let type, let context):
            return "field '\(path(context.codingPath))' must be \(typeName(type))"
        case .valueNotFound(let type, let context) where context.codingPath.isEmpty:
            return "request body must be \(typeName(type)), not null"
        case .valueNotFound(let type, let context):
            return "field '\(path(context.codingPath))' must be \(typeName(type)), not null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "invalid JSON body" : "field '\(path(context.codingPath))' is out of range"
        @unknown default:
            return "invalid JSON body"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Double.Type, is Float.Type: return "a number"
        case is any FixedWidthInteger.Type: return "an integer"
        case is Bool.Type: return "a boolean"
        case is [String: Any].Type: return "a JSON object"
        case is [Any].Type: return "a JSON array"
        default: return "of type \(type)"
        }
    }
}
