import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes

/// The requests an event loop answers itself, in the channel pipeline, without a Swift task:
/// `GET /health` and the requests of plugin routes — reads on the calling thread, writes through
/// the group commit, whose answer comes back to the loop.
///
/// Why: Hummingbird serves every request from its connection's task through NIO's async channel
/// (an async sequence in, a writer out, task switches between). For `/health` that machinery was
/// about half the CPU of the request: a plain NIO handler answered a constant route at 1.1× the
/// Gin peer on this machine where the host answered `/health` at 0.55× (BENCHMARKS.md, issue 16,
/// eleventh session).
///
/// The answers are the router's, made by the same host code: the route table, the authenticator,
/// the rate limiter, the runtime's calls, the access log, the JSON shapes. Whatever needs waiting
/// for something else than the group commit, or could be answered differently by the router,
/// goes to the router unchanged: host routes but `/health` (a path no route matches is answered
/// 404 here, `UnroutedPaths`), chunked bodies and bodies over the
/// limit (413), CORS (`Origin`), `Expect`, `Connection: close`, a token whose signature this
/// process has not checked yet (its refusals known without jwt-kit are answered here: a missing
/// or malformed header, a token that is no JWT of ours, an expired one), rate limits shared through the
/// database, reads on engines without calling-thread reads (PostgreSQL) or moved off the calling
/// thread. Hosts that serve metrics answer everything through the router, whose middleware
/// records them.
struct InlineRequests: Sendable {
    let table: PluginRouteTable
    let runtime: PluginRuntime
    let authenticator: any Authenticator
    let limiter: RateLimiter?
    let trustedProxies: Set<String>
    let serverName: String?
    let health: Data
    let bodyLimit: Int

    /// The status line's head and the body of an answer.
    struct Reply {
        var head: HTTPResponse
        var body: ByteBuffer
    }

    /// What `answer` did with a request it took.
    enum Taken {
        /// Answered now.
        case answered(Reply)
        /// Queued for the group commit: `later` gets the answer once the batch committed.
        case committing
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
        bodyLimit = configuration.bodyLimitBytes
    }

    /// Whether a request with this head may be answered here once it is complete; the head
    /// alone decides, so nothing is read twice.
    func mayAnswer(_ head: HTTPRequest) -> Bool {
        let fields = head.headerFields
        guard fields[.origin] == nil, fields[.transferEncoding] == nil, fields[.expect] == nil,
              !(fields[.connection].map { $0.lowercased().contains("close") } ?? false) else { return false }
        if head.method == .get { return fields[.contentLength] == nil }
        guard PluginRouteTable.methods.contains(head.method) else { return false }
        return fields[.contentLength].map { Int($0).map { $0 <= bodyLimit } ?? false } ?? true
    }

    /// Answers a complete request (`body` nil for a `GET`), now or — for a write — through
    /// `later` once its batch committed (on the group commit's task). Nil for the router to answer.
    func answer(_ head: HTTPRequest, body: ByteBuffer?, peerIP: String, allocator: ByteBufferAllocator,
                later: @escaping @Sendable (Reply) -> Void) -> Taken? {
        let start = ContinuousClock.now
        let uri = URI(head.path ?? "")
        let path = uri.path
        var found: (registered: RegisteredRoute, parameters: Parameters, endpoint: String)?
        var unrouted = false
        if head.method != .get || path != HostRoute.health.path {
            if let match = table.match(head.method, path), let registered = match.route.registered[head.method] {
                found = (registered, match.parameters, match.route.endpointPath)
            } else if table.unrouted.nothingMatches(path) {
                unrouted = true
            } else {
                return nil
            }
        }
        let endpoint = found?.endpoint ?? path
        var caller: Caller?
        var refusal: APIError?
        if let found, found.registered.route.isProtected {
            switch authenticator.authenticateNow(head.headerFields) {
            case .caller(let known): caller = known
            case .refused(let error): refusal = error
            case .undecided: return nil
            }
        }
        // A refusal needs no read; a read is made here only where this thread may make it.
        if let found, refusal == nil, !found.registered.route.writes, !runtime.servesOnCallingThread(found.registered) { return nil }
        let clientIP = ClientAddressMiddleware.clientIP(peer: peerIP, headers: head.headerFields, trustedProxies: trustedProxies)
        // Counts the request: from here on it is answered here, so no request is counted twice.
        let decision = limiter.map { $0.checkNow(clientIP, at: runtime.clock()) } ?? .allowed
        guard let decision else { return nil }
        let requestID = InlineRequestID.next()
        // The access line carries the request id in its own metadata: a logger copy with it set
        // cost 1.7 % of `/health` (a metadata dictionary per request; BENCHMARKS.md, issue 16,
        // fifteenth session). Only an unhandled error makes that copy.
        let logger = runtime.logger
        let notes = RequestNotes()
        let finish = { @Sendable (status: HTTPResponse.Status, body: Data, extra: HTTPFields) -> Reply in
            // Appended, not set: none of these is among `extra` (a refusal's own fields), and a
            // subscript's set searches and rebuilds the fields, 1.2 µs of `/health` for five
            // (`perf`; BENCHMARKS.md, issue 16, sixteenth session).
            var fields = extra
            fields.reserveCapacity(extra.count + 5)
            fields.append(Self.contentType)
            fields.append(HTTPField(name: .contentLength, value: String(body.count)))
            AccessLogMiddleware.finish(&fields, status: status, method: head.method, path: path, since: start,
                                       logger: logger, loggerNamesRequest: false,
                                       requestID: requestID, clientIP: clientIP, route: endpoint, notes: notes)
            fields.append(HTTPField(name: .date, value: HTTPDate.now()))
            if let serverName { fields.append(HTTPField(name: .server, value: serverName)) }
            return Reply(head: HTTPResponse(status: status, headerFields: fields), body: allocator.buffer(bytes: body))
        }
        if case .limited(let seconds) = decision, let limiter {
            let refusal = RateLimitMiddleware.refusal(limit: limiter.limit, retryAfter: seconds)
            return .answered(finish(.tooManyRequests, refusal.body, refusal.headers))
        }
        // After the rate limit, as the router's middleware refuses a limited client first.
        if let refusal { return .answered(finish(refusal.status, refusal.body, refusal.headers)) }
        if unrouted { return .answered(finish(.notFound, Self.notFound, [:])) }
        guard let found else { return .answered(finish(.ok, health, [:])) }
        notes.userID = caller?.id
        notes.pluginID = found.registered.plugin.id
        let request = PluginRoutes.hostRequest(head, uri: uri, parameters: found.parameters,
                                               body: body.map { Data($0.readableBytesView) } ?? Data(),
                                               clientIP: clientIP, requestID: requestID, caller: caller)
        let answered = { @Sendable (result: Result<HostResponse, any Error>) -> Reply in
            switch result {
            case .success(let served): finish(HTTPResponse.Status(code: served.status), served.body, [:])
            case .failure(let error): finish(.internalServerError, JSONErrorMiddleware.unhandled(error, logger: Self.logger(logger, requestID: requestID), requestID: requestID), [:])
            }
        }
        if found.registered.route.writes {
            runtime.serveWrite(found.registered, request) { later(answered($0)) }
            return .committing
        }
        // Nil only when the route moved off the calling thread since `servesOnCallingThread`:
        // then the router serves it, and a rate limit counts this request twice.
        let served: HostResponse?
        do {
            served = try runtime.serveOnCallingThread(found.registered, request)
        } catch {
            return .answered(answered(.failure(error)))
        }
        return served.map { .answered(answered(.success($0))) }
    }

    /// What `JSONResponse.fields` sets.
    private static let contentType = HTTPField(name: .contentType, value: JSONResponse.contentType)

    /// The router's answer to a path none of its routes matches.
    private static let notFound = JSONText.error(JSONErrorMiddleware.defaultMessage(.notFound))

    /// The request's logger, as Hummingbird makes it for the router: with the request id.
    private static func logger(_ base: Logger, requestID: String) -> Logger {
        var logger = base
        logger[metadataKey: AccessLogMiddleware.requestIDKey] = .string(requestID)
        return logger
    }
}

/// One connection's stage for `InlineRequests`, after HTTP decoding and before the router's
/// async channel. It holds a request (head and body) until it is complete, answers it when
/// `InlineRequests` can, and passes it on (head, body, end, in order) when not. Responses leave
/// in request order: while a request passed on is unanswered, every later one is passed on too,
/// and while a write of its own commits, every later part waits here.
final class InlineRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Parts a client may send ahead while a write commits; more closes the connection (HTTP
    /// clients send the next request after the answer, pipelining ones a few).
    static let maximumWaiting = 256

    private let requests: InlineRequests
    /// The head of a request that may be answered here, until its end arrives, and its body.
    private var held: HTTPRequest?
    private var heldBody: ByteBuffer?
    /// Requests passed on whose response has not ended yet.
    private var passedOn = 0
    /// A write of this handler's is committing; `waiting` holds what arrived meanwhile.
    private var committing = false
    private var waiting: [Arrival] = []

    /// What the handler can receive from the decoder, in the order it came.
    private enum Arrival {
        case read(NIOAny)
        case error(any Error)
        case event(Any)
    }
    private var peerIP: String?

    init(_ requests: InlineRequests) {
        self.requests = requests
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !committing else { return wait(for: .read(data), context: context) }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if passedOn == 0, held == nil, requests.mayAnswer(head) {
                held = head
                return
            }
            passedOn += 1
            context.fireChannelRead(data)
        case .body(let part):
            guard let head = held else { return context.fireChannelRead(data) }
            // A GET that carries a body after all, or a body over the limit: the router's.
            guard head.method != .get, (heldBody?.readableBytes ?? 0) + part.readableBytes <= requests.bodyLimit else {
                passOn(context: context)
                return context.fireChannelRead(data)
            }
            if heldBody == nil { heldBody = part } else { heldBody!.writeImmutableBuffer(part) }
        case .end:
            guard let head = held else { return context.fireChannelRead(data) }
            let body = heldBody ?? (head.method == .get ? nil : ByteBuffer())
            let peer = peerIP ?? context.remoteAddress?.ipAddress ?? ""
            peerIP = peer
            let loop = context.eventLoop
            let bound = NIOLoopBound((self, context), eventLoop: loop)
            let taken = requests.answer(head, body: body, peerIP: peer, allocator: context.channel.allocator) { reply in
                loop.execute {
                    let (handler, context) = bound.value
                    handler.write(reply, context: context)
                    handler.committing = false
                    handler.replayWaiting(context: context)
                }
            }
            switch taken {
            case .answered(let reply)?:
                (held, heldBody) = (nil, nil)
                write(reply, context: context)
            case .committing?:
                (held, heldBody) = (nil, nil)
                committing = true
            case nil:
                passOn(context: context)
                context.fireChannelRead(data)
            }
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), passedOn > 0 { passedOn -= 1 }
        context.write(data, promise: promise)
    }

    /// A parse error or a half-closed input (a body cut short) belongs to the held request: it
    /// goes to the router with it, which answers as for any request (a 400 with the error shape).
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !committing else { return wait(for: .error(error), context: context) }
        flushAnswered(context)
        passOn(context: context)
        context.fireErrorCaught(error)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard !committing else { return wait(for: .event(event), context: context) }
        if event as? ChannelEvent == .inputClosed { flushAnswered(context) }
        passOn(context: context)
        context.fireUserInboundEventTriggered(event)
    }

    /// Flushes what was answered here before an error or the end of the client's input goes on:
    /// either may close the connection at once, and answers wait for the tick's end to be
    /// flushed (`LoopFlushBatch`). A request and its client's half-close read in one tick lost
    /// their answer (`halfClosedRequestsAreAnswered`).
    private func flushAnswered(_ context: ChannelHandlerContext) {
        context.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        waiting.removeAll()
        context.fireChannelInactive()
    }

    private func wait(for arrival: Arrival, context: ChannelHandlerContext) {
        waiting.append(arrival)
        if waiting.count > Self.maximumWaiting { context.close(promise: nil) }
    }

    private func write(_ reply: InlineRequests.Reply, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(reply.head)), promise: nil)
        context.write(wrapOutboundOut(.body(reply.body)), promise: nil)
        context.write(wrapOutboundOut(.end(nil)), promise: nil)
        LoopFlushBatch.flushAfterTick(context.channel)
    }

    /// Hands the held request on to the router: its head and what arrived of its body.
    private func passOn(context: ChannelHandlerContext) {
        guard let head = held else { return }
        passedOn += 1
        context.fireChannelRead(wrapInboundOut(.head(head)))
        if let body = heldBody { context.fireChannelRead(wrapInboundOut(.body(body))) }
        (held, heldBody) = (nil, nil)
    }

    /// What arrived while a write committed, in order, until another write of its own commits.
    private func replayWaiting(context: ChannelHandlerContext) {
        var replayed = false
        while !committing, !waiting.isEmpty {
            switch waiting.removeFirst() {
            case .read(let data): channelRead(context: context, data: data)
            case .error(let error): errorCaught(context: context, error: error)
            case .event(let event): userInboundEventTriggered(context: context, event: event)
            }
            replayed = true
        }
        if replayed { context.fireChannelReadComplete() }
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
    /// By `tm_wday`: Sunday is 0.
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
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
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
