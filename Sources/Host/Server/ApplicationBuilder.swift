import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Builds the HTTP application around a loaded runtime — the function both `stelltron serve` and
/// the end-to-end tests call (tests pass port 0 and an in-memory database).
public func buildApplication(
    runtime: PluginRuntime,
    auth: AuthService? = nil,
    authenticator: (any Authenticator)? = nil,
    port: Int? = nil
) async throws -> some ApplicationProtocol {
    let configuration = runtime.configuration
    let auth = if let auth { auth } else {
        try await AuthService(configuration: configuration, store: runtime.store, clock: runtime.clock)
    }
    let quotas = ClientQuotas(settings: configuration.connections, trustedProxies: Set(configuration.trustedProxies))
    // One limiter for the router and for WebSocket upgrades, which never reach the router.
    let limiter = RateLimiter.forHost(runtime)
    let authenticator = authenticator ?? BearerAuthenticator(auth: auth)
    let router = makeRouter(runtime: runtime, auth: auth, authenticator: authenticator, quotas: quotas, limiter: limiter)
    let serverName = "stelltron"
    // What the event loops answer themselves, with the router's table and the same authenticator.
    let inline = InlineRequests(runtime: runtime, table: router.table, authenticator: authenticator, limiter: limiter, serverName: serverName)
    var services: [any Service] = [TickService(runtime: runtime)]
    if let metrics = try MetricsEndpoint.server(runtime: runtime) { services.append(metrics) }
    return Application(
        router: router,
        server: MarketFeed.serverBuilder(runtime: runtime, quotas: quotas, limiter: limiter, inline: inline),
        configuration: .init(
            address: .hostname(configuration.host, port: port ?? configuration.port),
            serverName: serverName),
        services: services,
        logger: runtime.logger)
}

/// The router `buildApplication` serves, on its own: what the testing kit drives without sockets
/// (every route, middleware and error of the real host; no connection guard, WebSocket or ticks).
public func buildRouter(runtime: PluginRuntime, auth: AuthService) -> HostRouter {
    let configuration = runtime.configuration
    let limiter = RateLimiter.forHost(runtime)
    return makeRouter(runtime: runtime, auth: auth, authenticator: BearerAuthenticator(auth: auth),
                      quotas: ClientQuotas(settings: configuration.connections, trustedProxies: Set(configuration.trustedProxies)), limiter: limiter)
}

/// Middleware order, outermost first: access log (sees every final status), client address,
/// CORS (answers preflights before they count), rate limit, JSON errors, then the routes.
private func makeRouter(runtime: PluginRuntime, auth: AuthService, authenticator: any Authenticator,
                        quotas: ClientQuotas, limiter: RateLimiter?) -> HostRouter {
    let configuration = runtime.configuration
    let router = Router(context: HostRequestContext.self)
    router.add(middleware: AccessLogMiddleware())
    // Requests by route and status, with latency histograms — only when metrics are served.
    if !configuration.metricsBind.isEmpty { router.add(middleware: MetricsMiddleware()) }
    router.add(middleware: ClientAddressMiddleware(trustedProxies: Set(configuration.trustedProxies)))
    router.add(middleware: CORSPolicyMiddleware(allowedOrigins: Set(configuration.corsAllowedOrigins)))
    if let limiter {
        router.add(middleware: RateLimitMiddleware(limiter: limiter, clock: runtime.clock))
    }
    router.add(middleware: JSONErrorMiddleware())
    HealthEndpoint.register(on: router, runtime: runtime)
    ConsoleEndpoint.register(on: router)
    let openAPI = OpenAPIDocument.build(runtime: runtime)
    router.on(.openAPI) { _, _ in JSONResponse.make(status: .ok, body: openAPI) }
    EventStreamEndpoint.register(on: router, runtime: runtime, quotas: quotas)
    AuthEndpoints.register(on: router, auth: auth, bodyLimit: configuration.bodyLimitBytes)
    let pluginRoutes = PluginRoutes.register(on: router, runtime: runtime, authenticator: authenticator)
    router.on(.marketFeed) { _, context -> Response in
        // An upgrade refused for the subscriber quota arrives here as a plain GET.
        guard quotas.hasSubscriberRoom(context.clientIP) else {
            throw APIError(.tooManyRequests, "at most \(quotas.settings.maxSubscribersPerIP) live feeds per client address")
        }
        throw APIError(.upgradeRequired, "\(MarketFeed.path) is a WebSocket: send an Upgrade request", headers: [.upgrade: "websocket"])
    }
    PluginRoutes.refuseOtherMethods(on: router, HostRoute.all)
    // Last: the router holds every route now.
    return HostRouter(table: pluginRoutes.knowing(everyRoute: router.routes.map(\.path)), router: router)
}
