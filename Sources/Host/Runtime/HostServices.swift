import CStelltronPluginAPI
import Foundation

/// Services the host itself offers to plugins under the `host.` prefix.
enum HostServices {
    static func call(_ name: String, request: Data, runtime: PluginRuntime) -> LoadedPlugin.Outcome {
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
