import Hummingbird

/// CORS for the web frontend. Listed origins are echoed back with credentials allowed; `*` allows
/// any origin but never together with credentials. Preflight `OPTIONS` requests are answered here.
struct CORSPolicyMiddleware: RouterMiddleware {
    typealias Context = HostRequestContext
    let allowedOrigins: Set<String>
    static let methods = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
    static let headers = "Authorization, Content-Type, Last-Event-ID, X-Request-ID"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        let explicit = allowedOrigins.contains(origin)
        let allowed = explicit || allowedOrigins.contains("*")
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            guard allowed else {
                return JSONResponse.make(status: .forbidden, body: JSONText.error("origin \(origin) is not allowed"))
            }
            var response = Response(status: .noContent)
            apply(to: &response.headers, origin: origin, explicit: explicit)
            response.headers[.accessControlAllowMethods] = Self.methods
            response.headers[.accessControlAllowHeaders] = request.headers[.accessControlRequestHeaders] ?? Self.headers
            response.headers[.accessControlMaxAge] = "600"
            return response
        }
        var response = try await next(request, context)
        if allowed { apply(to: &response.headers, origin: origin, explicit: explicit) }
        return response
    }

    private func apply(to headers: inout HTTPFields, origin: String, explicit: Bool) {
        if explicit {
            headers[.accessControlAllowOrigin] = origin
            headers[.accessControlAllowCredentials] = "true"
            headers[.vary] = "Origin"
        } else {
            headers[.accessControlAllowOrigin] = "*"
        }
        headers[.accessControlExposeHeaders] = "Retry-After, X-Request-ID"
    }
}
