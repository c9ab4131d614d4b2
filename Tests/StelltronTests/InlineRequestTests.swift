import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
@testable import StelltronHost
import StelltronTesting
import Testing

/// The requests an event loop answers itself (`InlineRequests`, `InlineRequestHandler`): the same
/// answers as the router's, for the real plugins on a real runtime; everything else passed on to
/// the router untouched and in order.
@Suite("requests answered on the event loop")
struct InlineRequestTests {
    /// A market host served through the router (no sockets, so nothing is answered inline) and
    /// the inline answers made from the same runtime, router table and authentication.
    private struct Host {
        let http: any TestClientProtocol
        let inline: InlineRequests
        let token: String
    }

    private func withHost(rateLimit: Int = 0, clock: TestClock? = nil, _ body: @escaping @Sendable (Host) async throws -> Void) async throws {
        var configuration = Fixtures.configuration([
            .init(id: "ledger", library: BuildProducts.library("StelltronLedger"), config: [:]),
            .init(id: "market", library: BuildProducts.library("StelltronMarket"), config: [:]),
        ])
        configuration.rateLimitPerMinute = 0
        let runtime = try await Fixtures.runtimeOffThePool(configuration, clock: clock)
        let auth = try await AuthService(configuration: configuration, store: runtime.store, clock: runtime.clock)
        let table = buildRouter(runtime: runtime, auth: auth).table
        let limiter = rateLimit > 0 ? RateLimiter(limitPerMinute: rateLimit) : nil
        let inline = try #require(InlineRequests(runtime: runtime, table: table, authenticator: BearerAuthenticator(auth: auth),
                                                 limiter: limiter, serverName: "stelltron"))
        try await buildApplication(runtime: runtime, auth: auth, port: 0).test(.router) { http in
            let wallet = TestWallet()
            _ = try await http.execute(uri: "/api/v1/auth/signup", method: .post, body: ByteBuffer(string: wallet.proof()))
            let login = try await http.execute(uri: "/api/v1/auth/login", method: .post, body: ByteBuffer(string: wallet.proof()))
            let token = try #require(Fixtures.json(Data(login.body.readableBytesView))["access_token"] as? String)
            try await body(Host(http: http, inline: inline, token: token))
        }
    }

    private func get(_ path: String, token: String? = nil, _ extra: HTTPFields = [:]) -> HTTPRequest {
        var fields = extra
        if let token { fields[.authorization] = "Bearer \(token)" }
        return HTTPRequest(method: .get, scheme: nil, authority: nil, path: path, headerFields: fields)
    }

    private typealias Answer = (status: HTTPResponse.Status, fields: HTTPFields, body: Data)

    private func answer(_ inline: InlineRequests, _ head: HTTPRequest) -> Answer? {
        guard case .answered(let reply)? = inline.answer(head, body: nil, peerIP: "127.0.0.1", allocator: ByteBufferAllocator(),
                                                        later: { _ in Issue.record("a read was answered later") }) else { return nil }
        return (reply.head.status, reply.head.headerFields, Data(reply.body.readableBytesView))
    }

    @Test(.enabled(if: TestDatabase.postgresURL == nil, "PostgreSQL has no calling-thread reads: only /health is answered inline"))
    func publicReadsAndHealthAreTheRoutersAnswers() async throws {
        try await withHost { host in
            let wallet = TestWallet().address
            for path in ["/health", "/api/v1/ledger/balance/\(wallet)", "/api/v1/market/depth", "/api/v1/ledger/balance/not-a-wallet"] {
                let inline = try #require(answer(host.inline, get(path)), "\(path) was not answered inline")
                let routed = try await host.http.execute(uri: path, method: .get)
                #expect(inline.status == routed.status, "\(path)")
                #expect(inline.body == Data(routed.body.readableBytesView), "\(path)")
                #expect(inline.fields[.contentType] == routed.headers[.contentType])
                #expect(inline.fields[.contentLength] == String(inline.body.count))
                #expect(inline.fields[HTTPField.Name("X-Request-ID")!]?.count == 32)
                #expect(inline.fields[.server] == "stelltron")
                let second = Int(Date().timeIntervalSince1970)
                #expect([HTTPDate.format(second - 1), HTTPDate.format(second)].contains(inline.fields[.date] ?? ""))
            }
        }
    }

    @Test(.enabled(if: TestDatabase.postgresURL == nil, "PostgreSQL has no calling-thread reads"))
    func aProtectedReadIsAnsweredInlineOnceItsTokenWasVerified() async throws {
        try await withHost { host in
            // A token this process never checked goes to the router, which verifies it.
            #expect(answer(host.inline, get("/api/v1/market/orders", token: host.token)) == nil)
            let routed = try await host.http.execute(uri: "/api/v1/market/orders", method: .get, headers: [.authorization: "Bearer \(host.token)"])
            #expect(routed.status == .ok)
            let inline = try #require(answer(host.inline, get("/api/v1/market/orders", token: host.token)))
            #expect(inline.status == .ok && inline.body == Data(routed.body.readableBytesView))
            // A token whose signature was never checked here is the router's: jwt-kit checks it.
            #expect(answer(host.inline, get("/api/v1/market/orders", token: host.token + "x")) == nil)
        }
    }

    /// The refusals known without jwt-kit — no token, a malformed header, a token that is no
    /// HS256 JWT, a checked one that expired — are answered here, as the router answers them, on
    /// every engine (a refusal reads nothing).
    @Test func refusalsKnownWithoutJWTKitAreTheRoutersAnswers() async throws {
        let clock = TestClock()
        try await withHost(clock: clock) { host in
            let path = "/api/v1/market/orders"
            func same(_ fields: HTTPFields, _ label: String) async throws {
                let inline = try #require(answer(host.inline, get(path, fields)), "\(label) was not answered inline")
                let routed = try await host.http.execute(uri: path, method: .get, headers: fields)
                #expect(inline.status == .unauthorized && routed.status == .unauthorized, "\(label)")
                #expect(inline.body == Data(routed.body.readableBytesView), "\(label)")
                #expect(inline.fields[.contentType] == routed.headers[.contentType], "\(label)")
            }
            let noneAlgorithm = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64EncodedString()
                .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            let payload = host.token.split(separator: ".")[1]
            try await same([:], "no Authorization")
            try await same([.authorization: "Basic abc"], "another scheme")
            try await same([.authorization: "Bearer"], "no token")
            try await same([.authorization: "Bearer garbage"], "no JWT")
            try await same([.authorization: "Bearer \(noneAlgorithm).\(payload)."], "alg none")
            // Checked once through the router, the token is the caller's here; expired, it is refused.
            _ = try await host.http.execute(uri: path, method: .get, headers: [.authorization: "Bearer \(host.token)"])
            // (On PostgreSQL reads are not made on the event loop: the router serves the caller.)
            let checked = answer(host.inline, get(path, token: host.token))
            #expect(TestDatabase.postgresURL == nil ? checked?.status == .ok : checked == nil)
            clock.advance(24 * 3600 + 1)
            try await same([.authorization: "Bearer \(host.token)"], "expired")
            // What decides "no HS256 JWT": the header's `alg`, base64url with its `-` and `_`.
            #expect(AccessTokens.headerAlgorithm(of: host.token) == "HS256")
            #expect(AccessTokens.headerAlgorithm(of: "eyJhbGciOiJIUzI1NiIsImsiOiI_Pz8-Pj5-fiJ9.e30.x") == "HS256")
            #expect(AccessTokens.headerAlgorithm(of: "\(noneAlgorithm).\(payload).") == "none")
            for malformed in ["", ".", "garbage", "e30.e30.x", "W10.e30.x", "eyJhbGciOjF9.e30.x"] {
                #expect(AccessTokens.headerAlgorithm(of: malformed) == nil, "\(malformed)")
            }
        }
    }

    @Test func whatMightBeAnsweredDifferentlyGoesToTheRouter() async throws {
        try await withHost { host in
            // Paths the trie treats specially, or compares as Unicode: its to decide.
            for path in ["/health/", "//health", "/console/", "/héalth", "/", ""] {
                #expect(answer(host.inline, get(path)) == nil, "\(path)")
            }
            #expect(!host.inline.mayAnswer(HTTPRequest(method: .head, scheme: nil, authority: nil, path: "/health")))
            #expect(!host.inline.mayAnswer(get("/health", [.transferEncoding: "chunked"])))
            let post = HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/health")
            #expect(host.inline.answer(post, body: ByteBuffer(), peerIP: "", allocator: ByteBufferAllocator(), later: { _ in }) == nil,
                    "the router answers 405 for the host's own routes")
            #expect(!host.inline.mayAnswer(get("/health", [.origin: "https://app.example"])))
            #expect(!host.inline.mayAnswer(get("/health", [.connection: "close"])))
            #expect(!host.inline.mayAnswer(get("/health", [.contentLength: "2"])))
            #expect(host.inline.mayAnswer(get("/health")))
        }
    }

    /// A path no route of the router matches is answered 404 here, as the router answers it, for
    /// every method; no path of a route the router holds is ever taken for one.
    @Test func pathsNoRouteMatchesAreTheRouters404() async throws {
        try await withHost { host in
            let unknown = ["/no/such/path", "/api/v1/nope", "/iot/nodes", "/iot/nodes/rpi-1/extra", "/Health", "/api/v1/market/price/x",
                           "/h%C3%A9alth", "/heal%74h"] // the trie matches the raw path, as here
            for path in unknown {
                let inline = try #require(answer(host.inline, get(path)), "\(path) was not answered inline")
                let routed = try await host.http.execute(uri: path, method: .get)
                #expect(inline.status == .notFound && routed.status == .notFound, "\(path)")
                #expect(inline.body == Data(routed.body.readableBytesView), "\(path)")
                #expect(inline.fields[.contentType] == routed.headers[.contentType])
            }
            let post = HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/no/such/path")
            guard case .answered(let reply)? = host.inline.answer(post, body: ByteBuffer(string: "{}"), peerIP: "127.0.0.1",
                                                                  allocator: ByteBufferAllocator(), later: { _ in }) else {
                Issue.record("a POST to an unknown path was not answered inline")
                return
            }
            #expect(reply.head.status == .notFound)
        }
        // Every route of the real host, its captures filled in, is the router's or a plugin's.
        let configuration = Fixtures.configuration([
            .init(id: "ledger", library: BuildProducts.library("StelltronLedger"), config: [:]),
            .init(id: "market", library: BuildProducts.library("StelltronMarket"), config: [:]),
            .init(id: "iot", library: BuildProducts.library("StelltronIoT"), config: [:]),
        ])
        let runtime = try await Fixtures.runtimeOffThePool(configuration)
        let router = buildRouter(runtime: runtime, auth: try await AuthService(configuration: configuration, store: runtime.store, clock: runtime.clock))
        let routes = router.router.routes
        #expect(routes.count > 40)
        for route in routes {
            let path = "/" + route.path.components.map { $0.description.hasPrefix("{") ? "x" : $0.description }.joined(separator: "/")
            #expect(!router.table.unrouted.nothingMatches(path), "\(route)")
        }
        #expect(router.table.unrouted.nothingMatches("/iot/nodes/x/y"))
    }

    @Test func theRateLimitCountsInlineAnswers() async throws {
        try await withHost(rateLimit: 1) { host in
            #expect(answer(host.inline, get("/health"))?.status == .ok)
            let refused = try #require(answer(host.inline, get("/health")))
            #expect(refused.status == .tooManyRequests)
            #expect(refused.fields[.retryAfter] != nil)
            #expect((Fixtures.json(refused.body)["error"] as? String)?.contains("rate limit of 1 requests per minute") == true)
            // A limited client is refused for its rate before its token, as by the router's middleware.
            #expect(answer(host.inline, get("/api/v1/market/orders"))?.status == .tooManyRequests)
        }
    }

    /// Over a pipeline: a request passed on holds every later one back until its response ends,
    /// so responses leave in request order; then the handler answers again itself.
    @Test func theHandlerPassesOnInOrderAndAnswersTheRest() async throws {
        try await withHost { host in
            let channel = EmbeddedChannel(handler: InlineRequestHandler(host.inline))
            defer { _ = try? channel.finish() }
            // A token never checked here: the router's to verify.
            let post = HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/api/v1/market/order/create",
                                   headerFields: [.authorization: "Bearer \(host.token)x"])
            try channel.writeInbound(HTTPRequestPart.head(post))
            try channel.writeInbound(HTTPRequestPart.end(nil))
            try channel.writeInbound(HTTPRequestPart.head(get("/health")))
            try channel.writeInbound(HTTPRequestPart.end(nil))
            #expect(try passedOn(channel) == ["POST /api/v1/market/order/create", "end", "GET /health", "end"])
            #expect(try channel.readOutbound(as: HTTPResponsePart.self) == nil)

            // The router answers both; only then is the next request the handler's own.
            for _ in 0..<2 {
                try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
                try channel.writeOutbound(HTTPResponsePart.end(nil))
            }
            while try channel.readOutbound(as: HTTPResponsePart.self) != nil {}
            try channel.writeInbound(HTTPRequestPart.head(get("/health")))
            try channel.writeInbound(HTTPRequestPart.end(nil))
            #expect(try passedOn(channel).isEmpty)
            // The answer is written now and flushed once the loop's tick is over (`LoopFlushBatch`).
            #expect(try channel.readOutbound(as: HTTPResponsePart.self) == nil)
            channel.embeddedEventLoop.run()
            guard case .head(let head)? = try channel.readOutbound(as: HTTPResponsePart.self) else {
                Issue.record("no inline response head")
                return
            }
            #expect(head.status == .ok)
            guard case .body(let body)? = try channel.readOutbound(as: HTTPResponsePart.self) else {
                Issue.record("no inline response body")
                return
            }
            #expect(Fixtures.json(Data(body.readableBytesView))["status"] as? String == "ok")
            guard case .end? = try channel.readOutbound(as: HTTPResponsePart.self) else {
                Issue.record("no inline response end")
                return
            }

            // A GET that turns out to carry a body is passed on whole.
            try channel.writeInbound(HTTPRequestPart.head(get("/health")))
            try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: "{}")))
            try channel.writeInbound(HTTPRequestPart.end(nil))
            #expect(try passedOn(channel) == ["GET /health", "body", "end"])
        }
    }

    /// Answers written during one tick of a loop leave together once the tick is over, on every
    /// channel of that loop, and a loop's tick flushes only its own channels (test loops share a
    /// thread; a server's do not).
    @Test func answersOfOneTickAreFlushedTogetherAfterIt() async throws {
        try await withHost { host in
            let loop = EmbeddedEventLoop(), other = EmbeddedEventLoop()
            let channels = [EmbeddedChannel(handler: InlineRequestHandler(host.inline), loop: loop),
                            EmbeddedChannel(handler: InlineRequestHandler(host.inline), loop: loop)]
            let elsewhere = EmbeddedChannel(handler: InlineRequestHandler(host.inline), loop: other)
            defer { for channel in channels + [elsewhere] { _ = try? channel.finish() } }
            for channel in channels + [elsewhere] {
                try channel.writeInbound(HTTPRequestPart.head(get("/health")))
                try channel.writeInbound(HTTPRequestPart.end(nil))
                #expect(try channel.readOutbound(as: HTTPResponsePart.self) == nil, "flushed before the tick ended")
            }
            loop.run()
            for channel in channels {
                guard case .head(let head)? = try channel.readOutbound(as: HTTPResponsePart.self) else {
                    Issue.record("no answer after the tick")
                    continue
                }
                #expect(head.status == .ok)
            }
            #expect(try elsewhere.readOutbound(as: HTTPResponsePart.self) == nil, "another loop's tick flushed this channel")
            other.run()
            guard case .head? = try elsewhere.readOutbound(as: HTTPResponsePart.self) else {
                Issue.record("no answer after its own loop's tick")
                return
            }
        }
    }

    /// A write is answered on the loop too, once its batch committed; what the client sent
    /// meanwhile waits, then is answered in order.
    @Test func aWriteIsAnsweredAfterItsCommitAndHoldsBackWhatFollows() async throws {
        let runtime = try await Fixtures.runtimeOffThePool(Fixtures.configuration())
        let auth = try await AuthService(configuration: runtime.configuration, store: runtime.store, clock: runtime.clock)
        let inline = try #require(InlineRequests(runtime: runtime, table: buildRouter(runtime: runtime, auth: auth).table,
                                                 authenticator: BearerAuthenticator(auth: auth), limiter: nil, serverName: nil))
        let channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandler(InlineRequestHandler(inline))
        }
        let body = #"{"name":"inline","by":3}"#
        let post = HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/api/v1/probe/increment",
                               headerFields: [.contentLength: String(body.utf8.count), .contentType: "application/json"])
        try await channel.writeInbound(HTTPRequestPart.head(post))
        try await channel.writeInbound(HTTPRequestPart.body(ByteBuffer(string: body)))
        try await channel.writeInbound(HTTPRequestPart.end(nil))
        // Sent before the write's answer: answered after it (`/health` is answered here on every engine).
        try await channel.writeInbound(HTTPRequestPart.head(get("/health")))
        try await channel.writeInbound(HTTPRequestPart.end(nil))

        var answers: [(HTTPResponse.Status, [String: Any])] = []
        var head: HTTPResponse?
        while answers.count < 2 {
            switch try await channel.waitForOutboundWrite(as: HTTPResponsePart.self) {
            case .head(let written): head = written
            case .body(let written): answers.append((try #require(head).status, Fixtures.json(Data(written.readableBytesView))))
            case .end: break
            }
        }
        #expect(try await channel.readInbound(as: HTTPRequestPart.self) == nil, "a request was passed on to the router")
        #expect(answers[0].0 == .created && answers[0].1["value"] as? Int == 3)
        #expect(answers[1].0 == .ok && answers[1].1["status"] as? String == "ok")
        _ = try await channel.finish(acceptAlreadyClosed: true)

        // The write committed, with the event it emitted delivered in its batch.
        try await buildApplication(runtime: runtime, auth: auth, port: 0).test(.router) { client in
            let counter = Fixtures.json(Data(try await client.execute(uri: "/api/v1/probe/counters/inline", method: .get).body.readableBytesView))
            #expect(counter["value"] as? Int == 3 && counter["seen_events"] as? Int == 1)
        }

        // A body over the limit goes to the router, which answers 413.
        let large = HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/api/v1/probe/increment",
                                headerFields: [.contentLength: String(runtime.configuration.bodyLimitBytes + 1)])
        #expect(!inline.mayAnswer(large))
    }

    /// Over a real socket, many requests in one segment — reads answered on the loop, writes
    /// answered after their commit, the last one asking to close — get every answer, in order,
    /// each read seeing the write before it: nothing is left unflushed at the end of a tick.
    @Test func aPipelineOverASocketIsAnsweredWholeAndInOrder() async throws {
        try await DomainHost.with(["ledger", "iot"], over: .live) { host in
            let connection = try HostileClientTests.RawConnection(port: try #require(host.http.port))
            let rounds = 30
            var pipeline = ""
            for round in 0..<rounds {
                let ping = #"{"device_id":"rpi-pipe","voltage":3.9,"battery_level":50,"nodes_detail":[{"uid":"N\#(round)","voltage":3.9,"soc":50,"state":"IDLE"}]}"#
                pipeline += "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
                pipeline += "POST /iot/ping HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(ping.utf8.count)\r\n\r\n\(ping)"
                pipeline += "GET /iot/nodes/rpi-pipe HTTP/1.1\r\nHost: x\r\n\r\n"
            }
            pipeline += "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            connection.send(pipeline)
            let answers = await connection.receiveAll().components(separatedBy: "HTTP/1.1 ").dropFirst()
            #expect(answers.count == 3 * rounds + 1)
            #expect(answers.allSatisfy { $0.hasPrefix("200 ") }, "\(answers.filter { !$0.hasPrefix("200 ") })")
            for (index, answer) in answers.enumerated() where index % 3 == 2 {
                let round = index / 3
                #expect(answer.contains(#""uid":"N\#(round)""#), "the read after ping \(round) did not see it: \(answer)")
                #expect(!answer.contains(#""uid":"N\#(round + 1)""#), "the read after ping \(round) saw the next one")
            }
        }
    }

    @Test func theDateHeaderIsAnIMFFixdate() {
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(1_796_350_627) == "Fri, 04 Dec 2026 02:17:07 GMT")
    }

    private func passedOn(_ channel: EmbeddedChannel) throws -> [String] {
        var parts: [String] = []
        while let part = try channel.readInbound(as: HTTPRequestPart.self) {
            switch part {
            case .head(let head): parts.append("\(head.method.rawValue) \(head.path ?? "")")
            case .body: parts.append("body")
            case .end: parts.append("end")
            }
        }
        return parts
    }
}
