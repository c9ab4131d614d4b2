import Foundation
import Hummingbird

/// `GET /health`: 200 with the loaded plugins, for load balancers and operators.
enum HealthEndpoint {
    struct Health: Encodable {
        struct Plugin: Encodable {
            let id: String
            let version: String
            let abi: String
            let routes: Int
            let services: [String]
            let slots: [String]
        }
        let status: String
        let plugins: [Plugin]
        let slots: [String: String]
    }

    static func register(on router: Router<HostRequestContext>, runtime: PluginRuntime) {
        let body = body(runtime: runtime)
        router.on(.health) { _, _ in JSONResponse.make(status: .ok, body: body) }
    }

    /// The answer, fixed at load: the plugins and slots do not change while the host runs.
    static func body(runtime: PluginRuntime) -> Data {
        let health = Health(
            status: "ok",
            plugins: runtime.plugins.map { plugin in
                let declaration = plugin.declaration
                return .init(id: declaration.id, version: declaration.version, abi: "\(declaration.abiMajor).\(declaration.abiMinor)",
                             routes: declaration.routes.count, services: declaration.services.map(\.name),
                             slots: declaration.slots.map(\.name))
            },
            slots: runtime.slots.mapValues(\.id))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(health)) ?? JSONText.error("health unavailable")
    }
}
