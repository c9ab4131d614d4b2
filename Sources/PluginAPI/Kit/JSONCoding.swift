import Foundation

/// The kit's one place for JSON: encoders shared by every plugin entry point, and decoding
/// errors turned into messages an API caller can act on.
public enum JSONCoding {
    public static func encode<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        try JSONDecoder().decode(type, from: data)
    }

    /// Decodes a request body; any failure is a 400 naming the field and the problem.
    public static func decodeBody<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        if data.isEmpty { throw PluginError.badRequest("request body must be a JSON object") }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw PluginError.badRequest(describe(error))
        } catch {
            throw PluginError.badRequest("invalid JSON body")
        }
    }

    public static func errorBody(_ message: String) -> Data {
        (try? encode(["error": message])) ?? Data(#"{"error":"error"}"#.utf8)
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [CodingKey]) -> String {
            codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "missing field '\(parent.isEmpty ? key.stringValue : parent + "." + key.stringValue)'"
        case .typeMismatch(let type, let context):
            return "field '\(path(context.codingPath))' must be \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "field '\(path(context.codingPath))' must be \(typeName(type)), not null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "invalid JSON body" : "field '\(path(context.codingPath))' is invalid"
        @unknown default:
            return "invalid JSON body"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Double.Type, is Float.Type: return "a number"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt.Type: return "an integer"
        case is Bool.Type: return "a boolean"
        default: return "of type \(type)"
        }
    }
}
