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
        if trustedProxies.contains(context.peerIP) {
            let chain = request.headers[values: Self.forwardedFor]
                .flatMap { $0.split(separator: ",") }
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            if !chain.isEmpty {
                context.forwardedClientIP = chain.last(where: { !trustedProxies.contains($0) }) ?? chain.first
            }
        }
        return try await next(request, context)
    }
}
