import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// The requests an event loop answers itself, in the channel pipeline, without a Swift task:
/// `GET /health` and `GET`s of plugin read routes whose reads run on the calling thread.
///
/// Why: Hummingbird serves every request from its connection's task through NIO's async channel
/// (an async sequence in, a writer out, task switches between). For `/health` that machinery was
/// about half the CPU of the request: a plain NIO handler answered a constant route at 1.1× the
/// Gin peer on this machine where the host answered `/health` at 0.55× (BENCHMARKS.md, issue 16,
/// eleventh session).
///
/// The answers are the router's, made by the same host code: the route table, the authenticator,
/// the rate limiter, the runtime's calling-thread read, the access log, the JSON shapes. Whatever
/// needs waiting, or could be answered differently by the router, goes to the router unchanged:
/// other methods, requests with a body, CORS (`Origin`), `Connection: close`, a token whose
/// signature this process has not checked yet (and every refusal of a token), rate limits shared
/// through the database, engines without calling-thread reads (PostgreSQL), routes moved off the
/// calling thread. Hosts that serve metrics answer everything through the router, whose
/// middleware records them.
struct InlineRequests: Sendable {
    let table: PluginRouteTable
    let runtime: PluginRuntime
    let authenticator: any Authenticator
    let limiter: RateLimiter?
    let trustedProxies: Set<String>
    let serverName: String?
    let health: Data

    /// The status line's head and the body of an answer.
    struct Reply {
        var head: HTTPResponse
        var body: ByteBuffer
    }

    /// Nil when the router must answer everything (metrics are served).
    init?(runtime: PluginRuntime, table: PluginRouteTable, authenticator: any Authenticator, limiter: RateLimiter?, serverName: String?) {
        let configuration = runtime.configuration
        guard configuration.metricsBind.isEmpty else { return nil }
        self.table = table
        self.runtime = runtime
        self.authenticator = authenticator
        self.limiter = limiter
        trustedProxies = Set(configuration.trustedProxies)
        self.serverName = serverName
        health = HealthEndpoint.body(runtime: runtime)
    }

    /// Whether a request with this head may be answered here once it is complete; the head
    /// alone decides, so nothing is read twice.
    func mayAnswer(_ head: HTTPRequest) -> Bool {
        let fields = head.headerFields
        return head.method == .get && fields[.origin] == nil && fields[.contentLength] == nil && fields[.transferEncoding] == nil
            && !(fields[.connection].map { $0.lowercased().contains("close") } ?? false)
    }

    /// The answer to a complete `GET` without a body, or nil for the router to give it.
    func answer(_ head: HTTPRequest, peerIP: String, allocator: ByteBufferAllocator) -> Reply? {
        let start = ContinuousClock.now
        let uri = URI(head.path ?? "")
        let path = uri.path
        var endpoint = path
        var found: (route: PluginRouteTable.Route, registered: RegisteredRoute, parameters: Parameters)?
        if path != HostRoute.health.path {
            guard let match = table.match(.get, path), let registered = match.route.registered[.get],
                  runtime.servesOnCallingThread(registered) else { return nil }
            found = (match.route, registered, match.parameters)
            endpoint = match.route.endpointPath
        }
        var caller: Caller?
        if let found, found.registered.route.isProtected {
            guard let known = authenticator.authenticateNow(head.headerFields) else { return nil }
            caller = known
        }
        let clientIP = ClientAddressMiddleware.clientIP(peer: peerIP, headers: head.headerFields, trustedProxies: trustedProxies)
        // Counts the request: from here on it is answered here, so no request is counted twice.
        let decision = limiter.map { $0.checkNow(clientIP, at: runtime.clock()) } ?? .allowed
        guard let decision else { return nil }
        let requestID = RequestID().description
        var logger = runtime.logger
        logger[metadataKey: "hb.request.id"] = .string(requestID)
        let notes = RequestNotes()
        var status = HTTPResponse.Status.ok
        var extra: HTTPFields = [:]
        let body: Data
        if case .limited(let seconds) = decision, let limiter {
            let refusal = RateLimitMiddleware.refusal(limit: limiter.limit, retryAfter: seconds)
            (status, body, extra) = (.tooManyRequests, refusal.body, refusal.headers)
        } else if let found {
            notes.userID = caller?.id
            notes.pluginID = found.registered.plugin.id
            let request = PluginRoutes.hostRequest(head, uri: uri, parameters: found.parameters, body: Data(),
                                                   clientIP: clientIP, requestID: requestID, caller: caller)
            do {
                // Nil only when the route moved off the calling thread since `servesOnCallingThread`:
                // then the router serves it, and a rate limit counts this request twice.
                guard let served = try runtime.serveOnCallingThread(found.registered, request) else { return nil }
                (status, body) = (HTTPResponse.Status(code: served.status), served.body)
            } catch {
                (status, body) = (.internalServerError, JSONErrorMiddleware.unhandled(error, logger: logger, requestID: requestID))
            }
        } else {
            body = health
        }
        var fields = JSONResponse.fields(extra)
        fields[.contentLength] = String(body.count)
        AccessLogMiddleware.finish(&fields, status: status, method: .get, path: path, since: start, logger: logger,
                                   requestID: requestID, clientIP: clientIP, route: endpoint, notes: notes)
        fields[.date] = HTTPDate.now()
        if let serverName { fields[.server] = serverName }
        return Reply(head: HTTPResponse(status: status, headerFields: fields), body: allocator.buffer(bytes: body))
    }
}

/// One connection's stage for `InlineRequests`, after HTTP decoding and before the router's
/// async channel. It holds a request's head until the request is complete, answers it when
/// `InlineRequests` can, and passes it on (head, body, end, in order) when not. Responses leave
/// in request order: while a request passed on is unanswered, every later one is passed on too.
final class InlineRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let requests: InlineRequests
    /// The head of a request that may be answered here, until its end arrives.
    private var held: HTTPRequest?
    /// Requests passed on whose response has not ended yet.
    private var passedOn = 0
    private var peerIP: String?

    init(_ requests: InlineRequests) {
        self.requests = requests
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if passedOn == 0, held == nil, requests.mayAnswer(head) {
                held = head
                return
            }
            passedOn += 1
            context.fireChannelRead(data)
        case .body:
            // A body on a request that declared none (no length, no chunking): not ours.
            if let head = held {
                held = nil
                passOn(head, context: context)
            }
            context.fireChannelRead(data)
        case .end:
            guard let head = held else { return context.fireChannelRead(data) }
            held = nil
            let peer = peerIP ?? context.remoteAddress?.ipAddress ?? ""
            peerIP = peer
            guard let reply = requests.answer(head, peerIP: peer, allocator: context.channel.allocator) else {
                passOn(head, context: context)
                return context.fireChannelRead(data)
            }
            context.write(wrapOutboundOut(.head(reply.head)), promise: nil)
            context.write(wrapOutboundOut(.body(reply.body)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), passedOn > 0 { passedOn -= 1 }
        context.write(data, promise: promise)
    }

    private func passOn(_ head: HTTPRequest, context: ChannelHandlerContext) {
        passedOn += 1
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}

/// The `Date` header's value (RFC 9110's IMF-fixdate), formatted once a second, as Hummingbird's
/// own cache does for the router's responses.
enum HTTPDate {
    // Sendable: `lock` guards `cached`.
    private final class Cache: @unchecked Sendable {
        let lock = NSLock()
        var cached = (second: Int.min, text: "")
    }

    private static let cache = Cache()
    private static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func now() -> String {
        let second = Int(Date().timeIntervalSince1970.rounded(.down))
        return cache.lock.withLock {
            if cache.cached.second != second { cache.cached = (second, format(second)) }
            return cache.cached.text
        }
    }

    /// `second` since 1970 as e.g. `Fri, 04 Dec 2026 02:17:07 GMT`.
    static func format(_ second: Int) -> String {
        var time = time_t(second)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let day = days[Int(((second / 86_400) % 7 + 7) % 7)]
        return "\(day), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
