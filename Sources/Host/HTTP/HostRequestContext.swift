import Hummingbird
import NIOCore

/// The request context of every host route: Hummingbird's core storage plus the peer's address
/// (the client IP for plugins, logs and, later, rate limits).
public struct HostRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The client behind a trusted proxy, set by `ClientAddressMiddleware`.
    public var forwardedClientIP: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address: from a trusted proxy's `X-Forwarded-For`, else the socket peer's,
    /// or "" when unknown (unix sockets).
    public var clientIP: String { forwardedClientIP ?? peerIP }

    /// The socket peer's IP address.
    public var peerIP: String { remoteAddress?.ipAddress ?? "" }
}
