import Hummingbird

extension Router where Context == HostRequestContext {
    /// Mounts the handler of one of the host's own routes at the method and path its `HostRoute`
    /// entry names, so the router, the registry and the OpenAPI document read one table.
    func on(_ route: HostRoute, use handler: @escaping @Sendable (Request, Context) async throws -> Response) {
        guard let method = HTTPRequest.Method(route.method) else { preconditionFailure("HostRoute \(route.key) has no HTTP method") }
        on(RouterPath(route.path), method: method, use: handler)
    }
}
