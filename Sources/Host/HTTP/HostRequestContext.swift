import Hummingbird
import NIOCore

/// The request context of every host route: Hummingbird's core storage plus the peer's address
/// (the client IP for plugins, logs and, later, rate limits).
public struct HostRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address as text, or "" when unknown (unix sockets, tests without a socket).
    public var clientIP: String { remoteAddress?.ipAddress ?? "" }
}
