import Foundation
import Hummingbird
import Logging

/// Builds the HTTP application around a loaded runtime — the function both `stelltron serve` and
/// the end-to-end tests call (tests pass port 0 and an in-memory database).
public func buildApplication(
    runtime: PluginRuntime,
    authenticator: any Authenticator = DenyAllAuthenticator(),
    port: Int? = nil
) -> some ApplicationProtocol {
    let router = Router(context: HostRequestContext.self)
    router.add(middleware: AccessLogMiddleware())
    router.add(middleware: JSONErrorMiddleware())
    HealthEndpoint.register(on: router, runtime: runtime)
    EventStreamEndpoint.register(on: router, runtime: runtime)
    PluginRoutes.register(on: router, runtime: runtime, authenticator: authenticator)
    return Application(
        router: router,
        configuration: .init(
            address: .hostname(runtime.configuration.host, port: port ?? runtime.configuration.port),
            serverName: "stelltron"),
        services: [TickService(runtime: runtime)],
        logger: runtime.logger)
}
