import Foundation
import HTTPTypes
import Hummingbird
import Metrics
import NIOCore
import ServiceLifecycle

/// `GET /iot/events`: Server-Sent Events from the hub. Every event carries `id:`; a client that
/// reconnects with `Last-Event-ID` first gets the kept events it missed. A comment line every
/// keep-alive interval keeps proxies from closing an idle stream. The keep-alive goes through the
/// subscriber's own bounded queue, so a client that stops reading is dropped like any slow one.
enum EventStreamEndpoint {
    static func register(on router: Router<HostRequestContext>, runtime: PluginRuntime, quotas: ClientQuotas) {
        let hub = runtime.hub
        let interval = runtime.configuration.sseKeepAliveSeconds
        let live = Meter(label: "stelltron_live_subscribers", dimensions: [("feed", "sse")])
        router.on(.events) { request, context -> Response in
            let client = context.clientIP
            guard quotas.addSubscriber(client) else {
                throw APIError(.tooManyRequests, "at most \(quotas.settings.maxSubscribersPerIP) live feeds per client address")
            }
            let lastID = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
            let subscription = hub.subscribe(after: lastID)
            let body = ResponseBody { writer in
                live.increment()
                defer {
                    live.decrement()
                    quotas.removeSubscriber(client)
                }
                defer { hub.unsubscribe(subscription.id) }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // A child of the stream's task, so it runs where the stream does (the
                    // connection's event loop), not on Swift's shared pool, where busy neighbours
                    // could hold it back past a proxy's idle timeout.
                    group.addTask {
                        while !Task.isCancelled {
                            try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
                            if Task.isCancelled || !hub.keepAlive(subscription.id) { break }
                        }
                    }
                    defer { group.cancelAll() }
                    try await writer.write(ByteBuffer(string: ": connected\n\n"))
                    // On server shutdown, end the stream so that shutdown does not wait for clients.
                    try await withGracefulShutdownHandler {
                        for await event in subscription.events {
                            try await writer.write(ByteBuffer(string: frame(event)))
                        }
                    } onGracefulShutdown: {
                        hub.unsubscribe(subscription.id)
                    }
                }
                try await writer.finish(nil)
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/event-stream"
            headers[.cacheControl] = "no-cache"
            headers[HTTPField.Name("X-Accel-Buffering")!] = "no"
            return Response(status: .ok, headers: headers, body: body)
        }
    }

    /// One SSE message. A keep-alive is a comment; an event is `id:` plus `data:` lines (a frame
    /// with line breaks becomes several `data:` lines, which clients join back).
    static func frame(_ event: HubEvent) -> String {
        if event.id == 0 { return ": keep-alive\n\n" }
        // Every subscriber frames the same event: the hub's own compact JSON has no line break,
        // so a byte scan decides, and the split (grapheme by grapheme) is only for the rest.
        guard event.frame.utf8.contains(UInt8(ascii: "\n")) else { return "id: \(event.id)\ndata: \(event.frame)\n\n" }
        let data = event.frame.split(separator: "\n", omittingEmptySubsequences: false).map { "data: \($0)" }.joined(separator: "\n")
        return "id: \(event.id)\n\(data)\n\n"
    }
}
