import Foundation
import Metrics
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import StelltronPluginKit

/// `GET /ws/market`: a WebSocket that greets the client, then forwards every committed `trade`
/// and `price_tick` event as a JSON text message (`{"timestamp","type","payload"}`). Each client
/// reads from its own bounded hub queue: one that stops reading is dropped, its socket closed.
enum MarketFeed {
    static let path = HostRoute.marketFeed.path
    static let forwardedTypes: Set<String> = ["trade", "price_tick"]

    /// The server: HTTP/1 with this feed's WebSocket upgrade, every connection guarded by
    /// `quotas` (timeouts, per-address caps). An upgrade counts against the rate limit and the
    /// address's subscriber quota. A refused one is still upgraded, then closed at once with code
    /// 1013 (try again later) and the reason: the framework answers a declined upgrade with an
    /// empty 400, which would tell the client nothing.
    /// The requests `inline` can answer are answered on the event loop (`InlineRequestHandler`).
    static func serverBuilder(runtime: PluginRuntime, quotas: ClientQuotas, limiter: RateLimiter?, inline: InlineRequests?) -> HTTPServerBuilder {
        let live = Meter(label: "stelltron_live_subscribers", dimensions: [("feed", "ws")])
        return HTTPServerBuilder { responder in
            GuardedChannel(inner: HTTP1WebSocketUpgradeChannel(
                responder: responder,
                configuration: WebSocketServerConfiguration(autoPing: .enabled(timePeriod: .seconds(30))),
                additionalChannelHandlers: { inline.map { [InlineRequestHandler($0)] } ?? [] },
                shouldUpgrade: { request, channel, _ in
                    try await shouldUpgrade(request, channel, runtime: runtime, quotas: quotas, limiter: limiter, live: live)
                }),
                quotas: quotas)
        }
    }

    private static func refusal(_ reason: String) -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        .upgrade([:]) { _, outbound, _ in try await outbound.close(.unknown(1013), reason: reason) }
    }

    private static func shouldUpgrade(_ request: HTTPRequest, _ channel: any Channel, runtime: PluginRuntime, quotas: ClientQuotas,
                                      limiter: RateLimiter?, live: Meter) async throws -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        guard request.path.map({ $0.split(separator: "?").first.map(String.init) ?? $0 }) == path else { return .dontUpgrade }
        let client = ClientAddressMiddleware.clientIP(peer: channel.remoteAddress?.ipAddress ?? "unknown", headers: request.headerFields,
                                                      trustedProxies: quotas.trustedProxies)
        if let limiter, case .limited(let seconds) = await limiter.check(client, at: runtime.clock()) {
            return refusal(RateLimitMiddleware.message(limit: limiter.limit, retryAfter: seconds))
        }
        let full = "at most \(quotas.settings.maxSubscribersPerIP) live feeds per client address"
        guard quotas.hasSubscriberRoom(client) else { return refusal(full) }
        return .upgrade([:]) { inbound, outbound, _ in
            guard quotas.addSubscriber(client) else {
                try await outbound.close(.unknown(1013), reason: full)
                return
            }
            live.increment()
            defer {
                live.decrement()
                quotas.removeSubscriber(client)
            }
            let subscription = runtime.hub.subscribe()
            defer { runtime.hub.unsubscribe(subscription.id) }
            let welcome = "{\"type\":\"welcome\",\"message\":\"connected to the Stelltron market feed\",\"timestamp\":\"\(Timestamp.iso8601(Date()))\"}"
            try await outbound.write(.text(welcome))
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The client's side: nothing to act on, but its end (close) ends the feed.
                group.addTask {
                    for try await _ in inbound {}
                }
                group.addTask {
                    for await event in subscription.events where forwardedTypes.contains(event.type) {
                        try await outbound.write(.text(event.frame))
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }
}
