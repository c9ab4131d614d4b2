import Foundation

/// Reads the fields of a JSON object by hand, failing with the 400 messages
/// `JSONCoding.decodeBody` gives. For the busiest routes, where `Decodable`'s generic machinery
/// (a container and its metadata for every nested object) costs more than the route's work.
public struct JSONFields {
    public let members: [String: JSONValue]
    /// Where this object sits in the body, e.g. `nodes.1`; empty for the body itself.
    public let path: String

    public init(_ value: JSONValue, path: String = "") throws {
        guard case .object(let members) = value else {
            throw PluginError.badRequest(path.isEmpty ? "request body must be a JSON object" : "field '\(path)' must be a JSON object")
        }
        self.members = members
        self.path = path
    }

    public func string(_ key: String) throws -> String {
        guard let value = try optionalString(key) else { throw missingOrNull(key, "a string") }
        return value
    }

    public func optionalString(_ key: String) throws -> String? {
        switch members[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw PluginError.badRequest("field '\(name(key))' must be a string")
        }
    }

    public func optionalDouble(_ key: String) throws -> Double? {
        switch members[key] {
        case nil, .null?: return nil
        case .double(let value)?: return value
        case .int(let value)?: return Double(value)
        default: throw PluginError.badRequest("field '\(name(key))' must be a number")
        }
    }

    public func optionalInt(_ key: String) throws -> Int? {
        switch members[key] {
        case nil, .null?: return nil
        case .int(let value)?:
            guard let fitting = Int(exactly: value) else { throw PluginError.badRequest("field '\(name(key))' is out of range") }
            return fitting
        case .double(let value)? where value.rounded() == value:
            guard let fitting = Int(exactly: value) else { throw PluginError.badRequest("field '\(name(key))' is out of range") }
            return fitting
        default: throw PluginError.badRequest("field '\(name(key))' must be an integer")
        }
    }

    /// An optional array of objects, each read with its own path (`key.0`, `key.1`, ...).
    public func optionalObjects(_ key: String) throws -> [JSONFields]? {
        switch members[key] {
        case nil, .null?: return nil
        case .array(let elements)?:
            return try elements.enumerated().map { try JSONFields($0.element, path: "\(name(key)).\($0.offset)") }
        default: throw PluginError.badRequest("field '\(name(key))' must be a JSON array")
        }
    }

    private func name(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    private func missingOrNull(_ key: String, _ kind: String) -> PluginError {
        members[key] == nil
            ? PluginError.badRequest("missing field '\(name(key))'")
            : PluginError.badRequest("field '\(name(key))' must be \(kind), not null")
    }
}
