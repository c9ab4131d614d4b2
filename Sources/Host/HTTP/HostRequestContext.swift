import Hummingbird
import NIOCore

/// The request context of every host route: Hummingbird's core storage plus the peer's address
/// (the client IP for plugins, logs and, later, rate limits).
public struct HostRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The client behind a trusted proxy, set by `ClientAddressMiddleware`.
    public var forwardedClientIP: String?
    /// What the route learned that the access log reports (the signed-in user).
    public let notes = RequestNotes()

    /// The socket peer's IP address, or "" when unknown (unix sockets). Formatted once per
    /// request: the middleware, the rate limiter, the plugin request and the log all ask for it.
    public let peerIP: String

    /// Hummingbird's request id (`id`), formatted once: the access log, the plugin request and an
    /// internal error's message all ask for it, and `id` formats it from the logger's metadata on
    /// every call.
    public let requestID: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
        peerIP = remoteAddress?.ipAddress ?? ""
        requestID = source.logger[metadataKey: AccessLogMiddleware.requestIDKey]?.description ?? ""
    }

    /// The client's IP address: from a trusted proxy's `X-Forwarded-For`, else the socket peer's,
    /// or "" when unknown (unix sockets).
    public var clientIP: String { forwardedClientIP ?? peerIP }
}

/// Facts a handler learns for the access log, which wraps it: the context is a value, so the
/// handler writes them into this box the log middleware also holds.
// Sendable: written and then read by the request's own task, in that order, never concurrently.
public final class RequestNotes: @unchecked Sendable {
    /// The authenticated caller of a protected route.
    public var userID: String?
    /// The plugin that served the route.
    public var pluginID: String?
}
