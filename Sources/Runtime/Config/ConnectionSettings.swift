import Foundation

/// What one client address may hold open, and how long a connection may keep the host waiting
/// (`[host]` in plugins.conf). The framework leaves these open: without them, 2 000 half-sent
/// requests or live feeds from one address stay open for as long as their sender likes.
public struct ConnectionSettings: Sendable, Equatable {
    /// From the first byte of a request to the first byte of its answer (headers and body).
    public var requestTimeoutSeconds: Double = 10
    /// Nothing sent either way: a keep-alive connection or a stalled one is closed.
    public var idleTimeoutSeconds: Double = 60
    /// Open TCP connections per client address (a trusted proxy's own address is exempt).
    public var maxConnectionsPerIP: Int = 64
    /// Live subscribers (SSE streams and WebSocket feeds) per client address.
    public var maxSubscribersPerIP: Int = 16

    public init() {}
}
