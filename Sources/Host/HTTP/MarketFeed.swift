import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// `GET /ws/market`: a WebSocket that greets the client, then forwards every committed `trade`
/// and `price_tick` event as a JSON text message (`{"timestamp","type","payload"}`). Each client
/// reads from its own bounded hub queue: one that stops reading is dropped, its socket closed.
enum MarketFeed {
    static let path = "/ws/market"
    static let forwardedTypes: Set<String> = ["trade", "price_tick"]

    static func serverBuilder(runtime: PluginRuntime) -> HTTPServerBuilder {
        .http1WebSocketUpgrade { request, _, _ in
            guard request.path.map({ $0.split(separator: "?").first.map(String.init) ?? $0 }) == path else { return .dontUpgrade }
            return .upgrade([:]) { inbound, outbound, _ in
                let subscription = runtime.hub.subscribe()
                defer { runtime.hub.unsubscribe(subscription.id) }
                let welcome = "{\"type\":\"welcome\",\"message\":\"connected to the Stelltron market feed\",\"timestamp\":\"\(Date().formatted(.iso8601))\"}"
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
}
