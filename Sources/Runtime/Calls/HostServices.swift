import CStelltronPluginAPI
import Foundation
import StelltronPluginKit

/// The services the host itself offers plugins under the `host.` prefix: a declared table, like a
/// plugin's, whose `writes` flag the runtime checks before the call (a read-only scope cannot
/// reach a writing service).
enum HostServices {
    struct Entry: Sendable {
        let declaration: PluginDeclaration.Service
        let handle: @Sendable (Data, CallContext) throws -> LoadedPlugin.Outcome
    }

    static let table: [String: Entry] = Dictionary(uniqueKeysWithValues: entries.map { ($0.declaration.name, $0) })

    private static let entries: [Entry] = [
        entry("host.users.get", writes: false, "a user by id: {id} → the user") { request, caller in
            let input = try decode(UserRequest.self, request)
            guard let user = try UserStore.find(input.id, in: caller.scope.session) else { return notFound("no user \(input.id)") }
            return try encode(user)
        },
        entry("host.users.set_role", writes: true, "promote a user: {id, role, location?} (roles never drop)") { request, caller in
            let input = try decode(RoleRequest.self, request)
            guard let role = Role(rawValue: input.role) else {
                return .init(status: STL_ERR_BAD_REQUEST, body: Data("role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))".utf8))
            }
            guard let user = try UserStore.promote(input.id, to: role, location: input.location, in: caller.scope.session) else {
                return notFound("no user \(input.id)")
            }
            return try encode(user)
        },
        entry("host.users.count", writes: false, "the number of users: {} → {count}") { _, caller in
            try encode(["count": UserStore.count(in: caller.scope.session)])
        },
        entry("host.hooks.call", writes: false, "call a bound hook through libffi: {hook, args} → {value}; NOT_FOUND when unbound") { request, caller in
            // For plugins that cannot call a C function pointer themselves; a plugin of the kit
            // takes its hooks at create instead (PluginHost.hookFunction).
            let input = try decode(HookRequest.self, request)
            guard let hook = caller.runtime.hooks[input.hook] else { return notFound("no hook bound to \(input.hook)") }
            let value = try hook.call(input.args)
            guard value.isFinite else { return .init(status: STL_ERR_INTERNAL, body: Data("hook \(input.hook) answered \(value)".utf8)) }
            return try encode(["value": value])
        },
        entry("host.plugins.list", writes: false, "the loaded plugins and who fills each slot") { _, caller in
            // Lets a plugin report "zero" for a domain whose plugin is not loaded.
            let runtime = caller.runtime
            let plugins = runtime.plugins.map { plugin in
                ["id": plugin.id, "version": plugin.declaration.version, "slots": plugin.declaration.slots.map(\.name)] as [String: Any]
            }
            let slots = runtime.slots.mapValues(\.id)
            guard let data = try? JSONSerialization.data(withJSONObject: ["plugins": plugins, "slots": slots], options: [.sortedKeys]) else {
                return .init(status: STL_ERR_INTERNAL, body: Data("could not encode the answer".utf8))
            }
            return .init(status: STL_OK, body: data)
        },
    ]

    /// Calls a declared host service; the runtime has already checked `writes` against the scope.
    static func call(_ entry: Entry, request: Data, from caller: CallContext) -> LoadedPlugin.Outcome {
        do {
            return try entry.handle(request, caller)
        } catch let error as DecodingError {
            return .init(status: STL_ERR_BAD_REQUEST, body: Data(JSONCoding.describe(error).utf8))
        } catch let error as JSONParseError {
            return .init(status: STL_ERR_BAD_REQUEST, body: Data("\(error)".utf8))
        } catch {
            return .init(status: STL_ERR_STORAGE, body: Data("\(error)".utf8))
        }
    }

    private static func entry(_ name: String, writes: Bool, _ summary: String,
                              _ handle: @escaping @Sendable (Data, CallContext) throws -> LoadedPlugin.Outcome) -> Entry {
        Entry(declaration: .init(name: name, writes: writes, summary: summary), handle: handle)
    }

    struct UserRequest: Decodable { var id: String }
    struct HookRequest: Decodable { var hook: String; var args: [Double] }
    struct RoleRequest: Decodable {
        var id: String
        var role: String
        var location: String?
    }

    private static func notFound(_ message: String) -> LoadedPlugin.Outcome {
        .init(status: STL_ERR_NOT_FOUND, body: Data(message.utf8))
    }

    /// The kit's coders: the same messages and bytes as Foundation's, at a fraction of the cost
    /// (host services are called on every quote and scheduling decision).
    private static func decode<T: Decodable>(_ type: T.Type, _ data: Data) throws -> T {
        try JSONCoding.decode(type, from: data)
    }

    private static func encode<T: Encodable>(_ value: T) throws -> LoadedPlugin.Outcome {
        .init(status: STL_OK, body: try JSONCoding.encode(value))
    }
}

/// A service answered by a closure: status (STL_OK or an error code) and JSON body. The testing
/// kit uses these to stand in for plugins a plugin under test calls.
public typealias StubService = @Sendable (Data) -> (status: Int32, body: Data)
