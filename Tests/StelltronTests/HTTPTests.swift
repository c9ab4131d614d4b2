import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StelltronHost
import StelltronTesting
import Testing

/// A stand-in for wallet sign-in, for these tests only: `Bearer test:<id>:<role>`.
private struct TestAuthenticator: Authenticator {
    func authenticate(_ request: Request, context: HostRequestContext) async throws -> Caller {
        let parts = (request.headers[.authorization] ?? "").split(separator: ":")
        guard parts.count == 3, parts[0] == "Bearer test" else { throw APIError(.unauthorized, "authentication required") }
        return .user(AuthenticatedUser(id: String(parts[1]), role: String(parts[2])))
    }
}

/// The host end to end over real sockets: routing, limits, errors and the JSON shape of each.
@Suite("HTTP")
struct HTTPTests {
    private func app(bodyLimit: Int = 64 * 1024, authenticator: (any Authenticator)? = TestAuthenticator()) async throws -> some ApplicationProtocol {
        var configuration = Fixtures.configuration()
        configuration.bodyLimitBytes = bodyLimit
        let runtime = try Fixtures.runtime(configuration)
        return try await buildApplication(runtime: runtime, authenticator: authenticator, port: 0)
    }

    private func json(_ buffer: ByteBuffer) -> [String: Any] {
        Fixtures.json(Data(buffer.readableBytesView))
    }

    @Test func healthListsPlugins() async throws {
        try await app().test(.router) { client in
            let response = try await client.execute(uri: "/health", method: .get)
            #expect(response.status == .ok)
            let body = json(response.body)
            #expect(body["status"] as? String == "ok")
            let plugins = try #require(body["plugins"] as? [[String: Any]])
            #expect(plugins.first?["id"] as? String == "probe")
            #expect(plugins.first?["abi"] as? String == "1.3")
            #expect(response.headers[HTTPField.Name("X-Request-ID")!] != nil)
        }
    }

    @Test func writeThenReadOverHTTP() async throws {
        try await app().test(.router) { client in
            let created = try await client.execute(
                uri: "/api/v1/probe/increment", method: .post, body: ByteBuffer(string: #"{"name":"h","by":4}"#))
            #expect(created.status == .created)
            #expect(created.headers[.contentType]?.hasPrefix("application/json") == true)
            let read = try await client.execute(uri: "/api/v1/probe/counters/h", method: .get)
            #expect(json(read.body)["value"] as? Int == 4)
        }
    }

    @Test func requestDetailsReachThePlugin() async throws {
        // Live: the client address comes from the socket.
        try await app().test(.live) { client in
            let response = try await client.execute(
                uri: "/api/v1/probe/echo/node%20A?q=7", method: .get, headers: [HTTPField.Name("X-Probe")!: "on"])
            let body = json(response.body)
            #expect(body["item"] as? String == "node A")
            #expect(body["query_q"] as? String == "7")
            #expect(body["header_x_probe"] as? String == "on")
            #expect(body["client_ip"] as? String == "127.0.0.1")
            #expect(body["request_id"] as? String == response.headers[HTTPField.Name("X-Request-ID")!])
            // Request ids as Hummingbird writes them (a process prefix, a 16-digit counter in
            // hex), another for each request; answered on the event loop, here, or by the router.
            let next = try await client.execute(uri: "/api/v1/probe/echo/x", method: .get)
            let ids = [response, next].compactMap { $0.headers[HTTPField.Name("X-Request-ID")!] }
            #expect(ids.count == 2 && ids[0] != ids[1], "\(ids)")
            for id in ids {
                #expect((17...32).contains(id.count) && id.allSatisfy { $0.isHexDigit && !$0.isUppercase }, "\(id)")
            }
            #expect(ids[0].dropLast(16) == ids[1].dropLast(16), "\(ids)")
        }
    }

    @Test func credentialsStayWithTheHost() async throws {
        // A plugin gets the user the host authenticated, never the token or cookie that proved
        // it: a third party's plugin could otherwise replay them against every other route.
        try await app().test(.router) { client in
            let response = try await client.execute(
                uri: "/api/v1/probe/echo/x", method: .get,
                headers: [.authorization: "Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl", .cookie: "session=s3cret",
                          .proxyAuthorization: "Basic dTpw", HTTPField.Name("X-Probe")!: "kept"])
            #expect(response.status == .ok)
            let body = json(response.body)
            #expect(body["header_x_probe"] as? String == "kept")
            #expect(body["header_authorization"] as? String == "")
            #expect(body["header_cookie"] as? String == "")
            #expect(!String(buffer: response.body).contains("s3cret"))
        }
    }

    @Test func openAPIDocumentListsHostAndPluginRoutes() async throws {
        try await app().test(.router) { client in
            let response = try await client.execute(uri: "/openapi.json", method: .get)
            #expect(response.status == .ok)
            let document = json(response.body)
            #expect(document["openapi"] as? String == "3.1.0")
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            #expect(paths["/api/v1/probe/counters/{name}"]?["get"] != nil)
            #expect(paths["/api/v1/auth/login"]?["post"] != nil)
            let whoami = try #require(paths["/api/v1/probe/whoami"]?["post"] as? [String: Any])
            #expect((whoami["security"] as? [[String: Any]])?.first?["bearerAuth"] != nil)
            let counter = try #require(paths["/api/v1/probe/counters/{name}"]?["get"] as? [String: Any])
            #expect((counter["parameters"] as? [[String: Any]])?.first?["name"] as? String == "name")
            #expect((counter["tags"] as? [String]) == ["probe"])
        }
    }

    /// The console is three static files with a strict CSP; other methods get 405 like any host route.
    @Test func theConsoleIsServedWithItsFiles() async throws {
        try await app().test(.router) { client in
            let page = try await client.execute(uri: "/console", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.hasPrefix("default-src 'self'") == true)
            #expect(String(buffer: page.body).contains(#"<script src="/console/console.js"></script>"#))
            let script = try await client.execute(uri: "/console/console.js", method: .get)
            #expect(script.headers[.contentType] == "text/javascript; charset=utf-8")
            #expect(String(buffer: script.body).contains("new EventSource(\"/iot/events\")"))
            #expect(try await client.execute(uri: "/console/console.css", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/console", method: .post).status == .methodNotAllowed)
            // Pages are not part of the JSON API's document.
            let openAPI = String(buffer: try await client.execute(uri: "/openapi.json", method: .get).body)
            #expect(!openAPI.contains("/console"))
        }
    }

    @Test func unknownPathIs404JSON() async throws {
        try await app().test(.router) { client in
            let response = try await client.execute(uri: "/api/v1/nothing/here", method: .get)
            #expect(response.status == .notFound)
            #expect(json(response.body)["error"] as? String == "not found")
        }
    }

    @Test func wrongMethodIs405JSONWithAllow() async throws {
        try await app().test(.router) { client in
            let response = try await client.execute(uri: "/api/v1/probe/increment", method: .get)
            #expect(response.status == .methodNotAllowed)
            #expect(response.headers[.allow] == "POST")
            #expect(json(response.body)["error"] as? String == "method not allowed; use POST")
        }
    }

    @Test func oversizedBodyIs413JSONAndWritesNothing() async throws {
        try await app(bodyLimit: 100).test(.router) { client in
            let big = #"{"name":"big","by":1,"pad":""# + String(repeating: "x", count: 500) + #""}"#
            let response = try await client.execute(uri: "/api/v1/probe/increment", method: .post, body: ByteBuffer(string: big))
            #expect(response.status == .contentTooLarge)
            #expect((json(response.body)["error"] as? String)?.contains("larger than 100 bytes") == true)
            let read = try await client.execute(uri: "/api/v1/probe/counters/big", method: .get)
            #expect(read.status == .notFound)
        }
    }

    @Test func malformedJSONIs400() async throws {
        try await app().test(.router) { client in
            for body in ["", "[1,2]", #"{"name":"x","by":1e400}"#, #"{"name":null,"by":1}"#] {
                let response = try await client.execute(uri: "/api/v1/probe/increment", method: .post, body: ByteBuffer(string: body))
                #expect(response.status == .badRequest, "body \(body)")
                #expect(json(response.body)["error"] is String)
            }
        }
    }

    @Test func protectedRoutesNeedAuthentication() async throws {
        try await app().test(.router) { client in
            let anonymous = try await client.execute(uri: "/api/v1/probe/whoami", method: .post, body: ByteBuffer(string: "{}"))
            #expect(anonymous.status == .unauthorized)
            #expect(json(anonymous.body)["error"] as? String == "authentication required")
            let signed = try await client.execute(
                uri: "/api/v1/probe/whoami", method: .post, headers: [.authorization: "Bearer test:GXYZ:Recipient"],
                body: ByteBuffer(string: "{}"))
            #expect(signed.status == .ok)
            #expect(json(signed.body)["id"] as? String == "GXYZ")
        }
    }

    @Test func defaultAuthenticatorWantsARealAccessToken() async throws {
        try await app(authenticator: nil).test(.router) { client in
            let response = try await client.execute(
                uri: "/api/v1/probe/whoami", method: .post, headers: [.authorization: "Bearer test:GXYZ:Donor"],
                body: ByteBuffer(string: "{}"))
            #expect(response.status == .unauthorized)
            #expect(json(response.body)["error"] as? String == "invalid or expired access token")
        }
    }

    @Test func pluginCrashIs500JSON() async throws {
        try await app().test(.router) { client in
            let response = try await client.execute(uri: "/api/v1/probe/crash", method: .post, body: ByteBuffer(string: "{}"))
            #expect(response.status == .internalServerError)
            #expect((json(response.body)["error"] as? String)?.hasPrefix("internal error (request ") == true)
        }
    }

    /// Each connection is served on its event loop, and so are its short SQLite reads; a read
    /// route whose reads average more than `slow_read_ms` of the thread's CPU time (one read of
    /// 300 ms is enough against 10 ms) moves to reader threads, so it cannot hold a loop (and every
    /// other connection on it) again. Time off the CPU (a sleep here; being descheduled under
    /// load) does not count. The other routes stay on the loop.
    @Test func slowReadRoutesMoveOffTheEventLoop() async throws {
        var configuration = Fixtures.configuration()
        // A debug build's short reads stay far below it on average; the probe's 300 ms is 1/16 over.
        configuration.slowReadMilliseconds = 10
        let runtime = try Fixtures.runtime(configuration)
        let app = try await buildApplication(runtime: runtime, authenticator: TestAuthenticator(), port: 0)
        try await app.test(.live) { client in
            func thread(_ uri: String) async throws -> String {
                let response = try await client.execute(uri: uri, method: .get)
                #expect(response.status == .ok)
                return try #require(json(response.body)["thread"] as? String)
            }
            guard runtime.store is Store else {
                // PostgreSQL: reads wait for the server on its pool's threads, never on the loop.
                let slow = try await thread("/api/v1/probe/thread/300")
                #expect(!slow.hasPrefix("NIO-"))
                #expect(runtime.readRoutesOffTheCallingThread.isEmpty)
                return
            }
            let short = try await thread("/api/v1/probe/thread/0")
            #expect(short.hasPrefix("NIO-"))
            #expect(runtime.readRoutesOffTheCallingThread.isEmpty)
            let slept = try await thread("/api/v1/probe/thread/300")
            #expect(slept.hasPrefix("NIO-"))
            #expect(runtime.readRoutesOffTheCallingThread.isEmpty)
            let busy = try await thread("/api/v1/probe/busy/300")
            #expect(busy.hasPrefix("NIO-"))
            #expect(runtime.readRoutesOffTheCallingThread == ["/api/v1/probe/busy/:busy_ms"])
            let moved = try await thread("/api/v1/probe/busy/0")
            #expect(!moved.hasPrefix("NIO-"))
            let other = try await thread("/api/v1/probe/thread/0")
            #expect(other.hasPrefix("NIO-"))
        }
    }
}
