import HTTPTypes
import Hummingbird

/// Finds the real client IP. `X-Forwarded-For` is believed only when the socket peer is a
/// configured trusted proxy, and then the rightmost address that is not itself a trusted proxy is
/// the client: everything left of it could have been written by the client (spoofed).
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = HostRequestContext
    let trustedProxies: Set<String>
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let client = Self.clientIP(peer: context.peerIP, headers: request.headers, trustedProxies: trustedProxies)
        if client != context.peerIP { context.forwardedClientIP = client }
        return try await next(request, context)
    }

    /// The client behind `peer`: `peer` itself unless it is a trusted proxy that forwarded for
    /// someone. Also used for WebSocket upgrades, which do not pass through the router.
    static func clientIP(peer: String, headers: HTTPFields, trustedProxies: Set<String>) -> String {
        guard trustedProxies.contains(peer) else { return peer }
        let chain = headers[values: forwardedFor]
            .flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard !chain.isEmpty else { return peer }
        return chain.last(where: { !trustedProxies.contains($0) }) ?? chain.first ?? peer
    }
}
