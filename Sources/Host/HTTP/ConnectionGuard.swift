import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// The per-address counts, shared by every connection of one server.
// Sendable: `lock` guards both tables; the settings are immutable.
final class ClientQuotas: @unchecked Sendable {
    let settings: ConnectionSettings
    let trustedProxies: Set<String>
    // Guards the two tables below; every access is a short critical section.
    private let lock = NSLock()
    private var connections: [String: Int] = [:]
    private var subscribers: [String: Int] = [:]

    init(settings: ConnectionSettings, trustedProxies: Set<String>) {
        self.settings = settings
        self.trustedProxies = trustedProxies
    }

    /// Takes a connection slot for `ip`; false when the address already holds its maximum.
    func openConnection(_ ip: String) -> Bool {
        guard !trustedProxies.contains(ip) else { return true }
        return lock.withLock { Self.take(&connections, ip, max: settings.maxConnectionsPerIP) }
    }

    func closeConnection(_ ip: String) {
        guard !trustedProxies.contains(ip) else { return }
        lock.withLock { Self.give(&connections, ip) }
    }

    /// Takes a subscriber slot for `ip`; false when the address already holds its maximum.
    func addSubscriber(_ ip: String) -> Bool {
        lock.withLock { Self.take(&subscribers, ip, max: settings.maxSubscribersPerIP) }
    }

    func removeSubscriber(_ ip: String) {
        lock.withLock { Self.give(&subscribers, ip) }
    }

    func hasSubscriberRoom(_ ip: String) -> Bool {
        lock.withLock { (subscribers[ip] ?? 0) < settings.maxSubscribersPerIP }
    }

    private static func take(_ table: inout [String: Int], _ key: String, max: Int) -> Bool {
        let current = table[key] ?? 0
        guard current < max else { return false }
        table[key] = current + 1
        return true
    }

    private static func give(_ table: inout [String: Int], _ key: String) {
        let left = (table[key] ?? 1) - 1
        table[key] = left > 0 ? left : nil
    }
}

/// The first handler of every connection, below HTTP: refuses an address over its connection
/// quota, closes a connection whose request is not answered within the request timeout (a client
/// that never finishes its headers or body), and one on which nothing moved for the idle timeout.
/// It sees bytes only, so it works the same before and after a WebSocket upgrade.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private let quotas: ClientQuotas
    private let logger: Logger
    private var address: String?
    private var lastActivity = NIODeadline.now()
    /// When the oldest byte not yet answered arrived.
    private var waitingSince: NIODeadline?
    /// After a WebSocket upgrade (`101` written) frames flow both ways on their own schedule:
    /// only the idle timeout applies (the feed pings every 30 s).
    private var upgraded = false
    private var check: RepeatedTask?

    init(quotas: ClientQuotas, logger: Logger) {
        self.quotas = quotas
        self.logger = logger
    }

    func channelActive(context: ChannelHandlerContext) {
        let ip = context.remoteAddress?.ipAddress ?? "unknown"
        guard quotas.openConnection(ip) else {
            logger.notice("connection refused: \(ip) already holds \(quotas.settings.maxConnectionsPerIP) connections")
            context.close(promise: nil)
            return
        }
        address = ip
        let settings = quotas.settings
        let period = TimeAmount.milliseconds(Int64(max(250, min(settings.requestTimeoutSeconds, settings.idleTimeoutSeconds) * 250)))
        check = context.eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { [weak self] _ in
            self?.enforce(context)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        if waitingSince == nil && !upgraded { waitingSince = lastActivity }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        lastActivity = .now()
        waitingSince = nil
        if !upgraded, case .byteBuffer(let buffer) = unwrapOutboundIn(data), buffer.readableBytesView.starts(with: Self.switching) {
            upgraded = true
        }
        context.write(data, promise: promise)
    }

    private static let switching = Array("HTTP/1.1 101".utf8)

    private func enforce(_ context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        let settings = quotas.settings
        if let since = waitingSince, now - since > .nanoseconds(Int64(settings.requestTimeoutSeconds * 1e9)) {
            logger.info("closing a connection from \(address ?? "?"): request not complete within \(settings.requestTimeoutSeconds) s")
            context.close(promise: nil)
        } else if now - lastActivity > .nanoseconds(Int64(settings.idleTimeoutSeconds * 1e9)) {
            logger.debug("closing a connection from \(address ?? "?"): idle for \(settings.idleTimeoutSeconds) s")
            context.close(promise: nil)
        }
    }

    private func release() {
        check?.cancel()
        check = nil
        if let address { quotas.closeConnection(address) }
        address = nil
    }
}

/// A server child channel that puts `ConnectionGuardHandler` first on every connection, then
/// sets up the HTTP/1 + WebSocket channel as usual, and runs the connection's task on the
/// connection's own event loop (`EventLoopTaskExecutor`).
struct GuardedChannel: ServerChildChannel {
    typealias Value = HTTP1WebSocketUpgradeChannel.Value
    let inner: HTTP1WebSocketUpgradeChannel
    let quotas: ClientQuotas

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(ConnectionGuardHandler(quotas: quotas, logger: logger))
        }.flatMap { inner.setup(channel: channel, logger: logger) }
    }

    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await inner.handle(value: value, logger: logger)
        }
    }
}
