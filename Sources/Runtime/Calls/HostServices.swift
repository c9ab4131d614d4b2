import CStelltronPluginAPI
import Foundation
import StelltronPluginKit

/// Services the host itself offers to plugins under the `host.` prefix.
enum HostServices {
    static func call(_ name: String, request: Data, from caller: CallContext) -> LoadedPlugin.Outcome {
        let runtime = caller.runtime
        let db = caller.scope.database
        do {
            switch name {
            case "host.users.get":
                let input = try decode(UserRequest.self, request)
                guard let user = try UserStore.find(input.id, in: db) else {
                    return .init(status: STL_ERR_NOT_FOUND, body: Data("no user \(input.id)".utf8))
                }
                return try encode(user)
            case "host.users.set_role":
                guard caller.scope.canWrite else {
                    return .init(status: STL_ERR_STORAGE, body: Data("host.users.set_role writes and cannot be called from a read-only route".utf8))
                }
                let input = try decode(RoleRequest.self, request)
                guard let role = Role(rawValue: input.role) else {
                    return .init(status: STL_ERR_BAD_REQUEST, body: Data("role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))".utf8))
                }
                guard let user = try UserStore.promote(input.id, to: role, location: input.location, in: db) else {
                    return .init(status: STL_ERR_NOT_FOUND, body: Data("no user \(input.id)".utf8))
                }
                return try encode(user)
            case "host.hooks.call":
                // A plugin asks for a bound hook; NOT_FOUND tells it to use its own built-in rule.
                let input = try decode(HookRequest.self, request)
                guard let hook = runtime.hooks[input.hook] else {
                    return .init(status: STL_ERR_NOT_FOUND, body: Data("no hook bound to \(input.hook)".utf8))
                }
                let value = try hook.call(input.args)
                guard value.isFinite else { return .init(status: STL_ERR_INTERNAL, body: Data("hook \(input.hook) answered \(value)".utf8)) }
                return try encode(["value": value])
            case "host.hooks.list":
                return try encode(["hooks": runtime.hooks.keys.sorted()])
            case "host.users.count":
                return try encode(["count": UserStore.count(in: db)])
            default:
                break
            }
        } catch let error as DecodingError {
            return .init(status: STL_ERR_BAD_REQUEST, body: Data(JSONCoding.describe(error).utf8))
        } catch let error as JSONParseError {
            return .init(status: STL_ERR_BAD_REQUEST, body: Data("\(error)".utf8))
        } catch {
            return .init(status: STL_ERR_STORAGE, body: Data("\(error)".utf8))
        }
        switch name {
        case "host.plugins.list":
            // Lets a plugin report "zero" for a domain whose plugin is not loaded.
            let plugins = runtime.plugins.map { plugin in
                [
                    "id": plugin.id,
                    "version": plugin.declaration.version,
                    "slots": plugin.declaration.slots.map(\.name),
                ] as [String: Any]
            }
            let slots = runtime.slots.mapValues(\.id)
            return encode(["plugins": plugins, "slots": slots])
        default:
            return .init(status: STL_ERR_UNKNOWN_SERVICE, body: Data("the host offers no service \(name)".utf8))
        }
    }

    struct UserRequest: Decodable { var id: String }
    struct HookRequest: Decodable { var hook: String; var args: [Double] }
    struct RoleRequest: Decodable {
        var id: String
        var role: String
        var location: String?
    }

    /// The kit's coders: the same messages and bytes as Foundation's, at a fraction of the cost
    /// (host services are called on every quote and scheduling decision).
    private static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        try JSONCoding.decode(type, from: data)
    }

    private static func encode<T: Encodable>(_ value: T) throws -> LoadedPlugin.Outcome {
        .init(status: STL_OK, body: try JSONCoding.encode(value))
    }

    private static func encode(_ object: Any) -> LoadedPlugin.Outcome {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else {
            return .init(status: STL_ERR_INTERNAL, body: Data("could not encode the answer".utf8))
        }
        return .init(status: STL_OK, body: data)
    }
}

/// A service answered by a closure: status (STL_OK or an error code) and JSON body. The testing
/// kit uses these to stand in for plugins a plugin under test calls.
public typealias StubService = @Sendable (Data) -> (status: Int32, body: Data)
