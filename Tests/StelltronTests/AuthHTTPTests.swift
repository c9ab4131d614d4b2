import CSodium
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StelltronHost
import StelltronTesting
import Testing

/// Wallet sign-in, tokens, roles, limits and CORS, end to end through the real router (and over
/// real sockets where the client's address matters).
@Suite("auth over HTTP")
struct AuthHTTPTests {
    struct Setup {
        var requireChallenge = false
        var rateLimit = 100
        var trustedProxies: [String] = []
        var origins: [String] = []
        var jwtSecret: String?
        /// `.live` when the test depends on the socket peer's address (trusted proxies).
        var transport: TestingSetup = .router
    }

    private func withApp(_ setup: Setup = Setup(), clock: TestClock = TestClock(),
                         _ body: @escaping @Sendable (any TestClientProtocol, PluginRuntime) async throws -> Void) async throws {
        var configuration = Fixtures.configuration()
        configuration.auth.requireChallenge = setup.requireChallenge
        configuration.rateLimitPerMinute = setup.rateLimit
        configuration.trustedProxies = setup.trustedProxies
        configuration.corsAllowedOrigins = setup.origins
        configuration.auth.jwtSecret = setup.jwtSecret ?? configuration.auth.jwtSecret
        let runtime = try Fixtures.runtime(configuration, clock: clock)
        try await buildApplication(runtime: runtime, port: 0).test(setup.transport) { client in try await body(client, runtime) }
    }

    private func post(_ client: some TestClientProtocol, _ uri: String, _ body: String, headers: HTTPFields = [:]) async throws -> (HTTPResponse.Status, [String: Any], HTTPFields) {
        let response = try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
        return (response.status, Fixtures.json(Data(response.body.readableBytesView)), response.headers)
    }

    private func get(_ client: some TestClientProtocol, _ uri: String, token: String?) async throws -> (HTTPResponse.Status, [String: Any]) {
        let headers: HTTPFields = token.map { [.authorization: "Bearer \($0)"] } ?? [:]
        let response = try await client.execute(uri: uri, method: .get, headers: headers)
        return (response.status, Fixtures.json(Data(response.body.readableBytesView)))
    }

    /// Signs up and logs in; returns (access, refresh).
    private func signIn(_ client: some TestClientProtocol, _ wallet: TestWallet) async throws -> (String, String) {
        _ = try await post(client, "/api/v1/auth/signup", wallet.proof())
        let (status, body, _) = try await post(client, "/api/v1/auth/login", wallet.proof())
        #expect(status == .ok)
        return (try #require(body["access_token"] as? String), try #require(body["refresh_token"] as? String))
    }

    @Test func signupCreatesThenReturnsTheUser() async throws {
        try await withApp { client, _ in
            let wallet = TestWallet()
            let (created, user, _) = try await post(client, "/api/v1/auth/signup", wallet.proof())
            #expect(created == .created)
            #expect(user["id"] as? String == wallet.address)
            #expect(user["wallet_address"] as? String == wallet.address)
            #expect(user["role"] as? String == "Recipient")
            #expect(user["kyc_status"] as? String == "pending")
            #expect(user["created_at"] as? String == "2026-11-18T11:06:40Z")
            let (again, same, _) = try await post(client, "/api/v1/auth/signup", wallet.proof())
            #expect(again == .ok)
            #expect(same["id"] as? String == wallet.address)
        }
    }

    @Test func signInRejectsBadInput() async throws {
        try await withApp { client, _ in
            let wallet = TestWallet(), other = TestWallet()
            let cases: [(String, HTTPResponse.Status, String)] = [
                (#"{"wallet_address":"GABC","signature":"x"}"#, .badRequest, "invalid wallet address"),
                (#"{"wallet_address":"\#(wallet.address)","signature":"\#(other.sign("los-tecnicos-auth"))"}"#, .unauthorized, "invalid wallet signature"),
                (#"{"wallet_address":"\#(wallet.address)","signature":"%%%"}"#, .unauthorized, "invalid wallet signature"),
                (#"{"wallet_address":"\#(wallet.address)","signature":"\#(wallet.sign("hello"))","message":"hello"}"#, .badRequest,
                 "message must be los-tecnicos-auth or a challenge from /api/v1/auth/challenge"),
                (#"{"wallet_address":"\#(wallet.address)"}"#, .badRequest, "missing field 'signature'"),
                (#"{"wallet_address":42,"signature":"x"}"#, .badRequest, "field 'wallet_address' must be a string"),
                ("not json", .badRequest, "invalid JSON body"),
            ]
            for (body, status, message) in cases {
                let (got, answer, _) = try await post(client, "/api/v1/auth/signup", body)
                #expect(got == status, "\(body)")
                #expect(answer["error"] as? String == message, "\(body)")
            }
            let (unknown, answer, _) = try await post(client, "/api/v1/auth/login", wallet.proof())
            #expect(unknown == .notFound)
            #expect(answer["error"] as? String == "no user with this wallet: sign up first")
        }
    }

    @Test func loginMeAndRefreshRotation() async throws {
        try await withApp { client, _ in
            let wallet = TestWallet()
            let (access, refresh) = try await signIn(client, wallet)
            let (status, me) = try await get(client, "/api/v1/auth/me", token: access)
            #expect(status == .ok)
            #expect(me["id"] as? String == wallet.address)
            #expect(me["location"] as? String == "")

            let (rotated, tokens, _) = try await post(client, "/api/v1/auth/refresh", #"{"refresh_token":"\#(refresh)"}"#)
            #expect(rotated == .ok)
            let newRefresh = try #require(tokens["refresh_token"] as? String)
            #expect(newRefresh != refresh)
            #expect(try await get(client, "/api/v1/auth/me", token: tokens["access_token"] as? String).0 == .ok)

            // Replaying the used token revokes the whole session, the fresh token included.
            let (replayed, error, _) = try await post(client, "/api/v1/auth/refresh", #"{"refresh_token":"\#(refresh)"}"#)
            #expect(replayed == .unauthorized)
            #expect(error["error"] as? String == "refresh token was already used; the session is revoked")
            let (afterRevocation, _, _) = try await post(client, "/api/v1/auth/refresh", #"{"refresh_token":"\#(newRefresh)"}"#)
            #expect(afterRevocation == .unauthorized)
            let (unknown, _, _) = try await post(client, "/api/v1/auth/refresh", #"{"refresh_token":"00000000-0000-0000-0000-000000000000"}"#)
            #expect(unknown == .unauthorized)
        }
    }

    @Test func sessionsAreIndependent() async throws {
        try await withApp { client, _ in
            let wallet = TestWallet()
            let (_, laptop) = try await signIn(client, wallet)
            let (_, phone) = try await signIn(client, wallet)
            #expect(try await post(client, "/api/v1/auth/refresh", #"{"refresh_token":"\#(laptop)"}"#).0 == .ok)
            #expect(try await post(client, "/api/v1/auth/refresh", #"{"refresh_token":"\#(laptop)"}"#).0 == .unauthorized)
            #expect(try await post(client, "/api/v1/auth/refresh", #"{"refresh_token":"\#(phone)"}"#).0 == .ok)
        }
    }

    @Test func refreshTokensExpireAfterSevenDays() async throws {
        let clock = TestClock()
        try await withApp(clock: clock) { client, _ in
            let (_, refresh) = try await signIn(client, TestWallet())
            clock.advance(7 * 86_400 + 1)
            let (status, body, _) = try await post(client, "/api/v1/auth/refresh", #"{"refresh_token":"\#(refresh)"}"#)
            #expect(status == .unauthorized)
            #expect(body["error"] as? String == "refresh token expired")
        }
    }

    @Test func challengesAreOneTimeAndBoundToTheWallet() async throws {
        let clock = TestClock()
        try await withApp(Setup(requireChallenge: true), clock: clock) { client, _ in
            let wallet = TestWallet(), thief = TestWallet()
            // The static message is refused in challenge-only mode.
            let (static_, staticError, _) = try await post(client, "/api/v1/auth/signup", wallet.proof())
            #expect(static_ == .unauthorized)
            #expect((staticError["error"] as? String)?.contains("challenge is required") == true)

            let (issued, challenge, _) = try await post(client, "/api/v1/auth/challenge", #"{"wallet_address":"\#(wallet.address)"}"#)
            #expect(issued == .ok)
            let message = try #require(challenge["message"] as? String)
            #expect(message.hasPrefix("los-tecnicos-auth:") && message.count == "los-tecnicos-auth:".count + 32)
            // Another wallet cannot use it, even with a valid signature of its own.
            #expect(try await post(client, "/api/v1/auth/signup", thief.proof(message)).0 == .unauthorized)
            // A bad signature does not burn it; the owner's valid one does, once.
            let forged = #"{"wallet_address":"\#(wallet.address)","signature":"\#(thief.sign(message))","message":"\#(message)"}"#
            #expect(try await post(client, "/api/v1/auth/signup", forged).0 == .unauthorized)
            #expect(try await post(client, "/api/v1/auth/signup", wallet.proof(message)).0 == .created)
            let (reused, reuseError, _) = try await post(client, "/api/v1/auth/login", wallet.proof(message))
            #expect(reused == .unauthorized)
            #expect(reuseError["error"] as? String == "challenge is unknown, expired or already used")

            let (_, late, _) = try await post(client, "/api/v1/auth/challenge", #"{"wallet_address":"\#(wallet.address)"}"#)
            clock.advance(301)
            #expect(try await post(client, "/api/v1/auth/login", wallet.proof(late["message"] as! String)).0 == .unauthorized)
            let (_, fresh, _) = try await post(client, "/api/v1/auth/challenge", #"{"wallet_address":"\#(wallet.address)"}"#)
            #expect(try await post(client, "/api/v1/auth/login", wallet.proof(fresh["message"] as! String)).0 == .ok)
            #expect(try await post(client, "/api/v1/auth/challenge", #"{"wallet_address":"SABC"}"#).0 == .badRequest)
        }
    }

    @Test func forgedAndExpiredAccessTokensAreRefused() async throws {
        let clock = TestClock()
        try await withApp(clock: clock) { client, _ in
            let (access, _) = try await signIn(client, TestWallet())
            // Used once first, so that its checked signature is remembered: forgeries of it must
            // still be checked (and refused), and its expiry still counts below.
            #expect(try await get(client, "/api/v1/auth/me", token: access).0 == .ok)
            let parts = access.split(separator: ".").map(String.init)
            #expect(parts.count == 3)
            func b64url(_ text: String) -> String {
                Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                    .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            }
            var payload = parts[1].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while payload.count % 4 != 0 { payload += "=" }
            let claims = String(decoding: Data(base64Encoded: payload)!, as: UTF8.self)
            let promoted = claims.replacingOccurrences(of: "Recipient", with: "NetworkNodeOperator")
            #expect(promoted != claims)
            let forgeries = [
                "\(parts[0]).\(b64url(promoted)).\(parts[2])",                       // tampered payload
                "\(b64url(#"{"alg":"none","typ":"JWT"}"#)).\(parts[1]).",             // alg: none
                "\(b64url(#"{"alg":"HS512","typ":"JWT"}"#)).\(parts[1]).\(parts[2])", // another algorithm
                "\(parts[0]).\(parts[1])",                                            // no signature
                "garbage",
            ]
            for token in forgeries {
                let (status, body) = try await get(client, "/api/v1/auth/me", token: token)
                #expect(status == .unauthorized, "\(token)")
                #expect(body["error"] as? String == "invalid or expired access token")
            }
            for header in ["Bearer", "Basic abc", "Bearer  \(access)", "\(access)", "Bearer \(access) extra"] {
                let response = try await client.execute(uri: "/api/v1/auth/me", method: .get, headers: [.authorization: header])
                #expect(response.status == .unauthorized, "\(header)")
            }
            // Two Authorization fields, even both valid, are no one caller; the scheme's case is free.
            var twice = HTTPFields()
            twice.append(HTTPField(name: .authorization, value: "Bearer \(access)"))
            twice.append(HTTPField(name: .authorization, value: "Bearer \(access)"))
            #expect(try await client.execute(uri: "/api/v1/auth/me", method: .get, headers: twice).status == .unauthorized)
            #expect(try await client.execute(uri: "/api/v1/auth/me", method: .get, headers: [.authorization: "bEaReR \(access)"]).status == .ok)
            #expect(try await get(client, "/api/v1/auth/me", token: nil).0 == .unauthorized)
            #expect(try await get(client, "/api/v1/auth/me", token: access).0 == .ok)
            clock.advance(901)
            #expect(try await get(client, "/api/v1/auth/me", token: access).0 == .unauthorized)
        }
    }

    /// With the right key, a token must still say HS256 and live no longer than configured.
    @Test func onlyHS256TokensOfTheConfiguredLifetimeAreAccepted() async throws {
        let secret = "a-test-secret-of-at-least-32-bytes-long"
        let clock = TestClock()
        try await withApp(Setup(jwtSecret: secret), clock: clock) { client, _ in
            let wallet = TestWallet()
            let (access, _) = try await signIn(client, wallet)
            #expect(try await get(client, "/api/v1/auth/me", token: access).0 == .ok)
            func b64url(_ data: Data) -> String {
                data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            }
            func token(alg: String, lifetime: Int) -> String {
                let now = Int(clock.now.timeIntervalSince1970)
                let header = b64url(Data(#"{"alg":"\#(alg)","typ":"JWT"}"#.utf8))
                let claims = b64url(Data(#"{"sub":"\#(wallet.address)","user_id":"\#(wallet.address)","role":"Recipient","iat":\#(now),"exp":\#(now + lifetime)}"#.utf8))
                let input = Array("\(header).\(claims)".utf8), key = Array(secret.utf8)
                var mac: [UInt8]
                if alg == "HS512" {
                    mac = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha512_BYTES))
                    var state = crypto_auth_hmacsha512_state()
                    crypto_auth_hmacsha512_init(&state, key, key.count)
                    crypto_auth_hmacsha512_update(&state, input, UInt64(input.count))
                    crypto_auth_hmacsha512_final(&state, &mac)
                } else {
                    mac = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_BYTES))
                    var state = crypto_auth_hmacsha256_state()
                    crypto_auth_hmacsha256_init(&state, key, key.count)
                    crypto_auth_hmacsha256_update(&state, input, UInt64(input.count))
                    crypto_auth_hmacsha256_final(&state, &mac)
                }
                return "\(header).\(claims).\(b64url(Data(mac)))"
            }
            // The forging code is right: a token it makes like the host's is accepted.
            #expect(try await get(client, "/api/v1/auth/me", token: token(alg: "HS256", lifetime: 900)).0 == .ok)
            #expect(try await get(client, "/api/v1/auth/me", token: token(alg: "HS512", lifetime: 900)).0 == .unauthorized)
            #expect(try await get(client, "/api/v1/auth/me", token: token(alg: "HS256", lifetime: 86_400 * 365)).0 == .unauthorized)
        }
    }

    @Test func tokensSignedWithAnotherSecretAreRefused() async throws {
        try await withApp { client, _ in
            // A second host with its own secret signs a token for a user that exists here.
            let wallet = TestWallet()
            _ = try await post(client, "/api/v1/auth/signup", wallet.proof())
            var otherConfiguration = Fixtures.configuration()
            otherConfiguration.auth.jwtSecret = String(repeating: "k", count: 40)
            let otherRuntime = try Fixtures.runtime(otherConfiguration)
            let stolen = try await buildApplication(runtime: otherRuntime, port: 0).test(.router) { other in
                _ = try await post(other, "/api/v1/auth/signup", wallet.proof())
                return try #require(try await post(other, "/api/v1/auth/login", wallet.proof()).1["access_token"] as? String)
            }
            #expect(try await get(client, "/api/v1/auth/me", token: stolen).0 == .unauthorized)
        }
    }

    @Test func protectedPluginRoutesSeeTheRoleStoredNow() async throws {
        try await withApp { client, runtime in
            let wallet = TestWallet()
            let (access, _) = try await signIn(client, wallet)
            func whoami() async throws -> [String: Any] {
                let response = try await client.execute(uri: "/api/v1/probe/whoami", method: .post,
                                                        headers: [.authorization: "Bearer \(access)"], body: ByteBuffer(string: "{}"))
                #expect(response.status == .ok)
                return Fixtures.json(Data(response.body.readableBytesView))
            }
            #expect(try await whoami()["role"] as? String == "Recipient")
            let promoted = try await runtime.callService("host.users.set_role", json: Data(#"{"id":"\#(wallet.address)","role":"Donor"}"#.utf8))
            #expect(promoted.status == 0)
            // Same token, new role: authorization reads storage, not the token.
            #expect(try await whoami()["role"] as? String == "Donor")
            // Nobody drops back.
            _ = try await runtime.callService("host.users.set_role", json: Data(#"{"id":"\#(wallet.address)","role":"Recipient"}"#.utf8))
            #expect(try await whoami()["role"] as? String == "Donor")
            let invalid = try await runtime.callService("host.users.set_role", json: Data(#"{"id":"\#(wallet.address)","role":"Admin"}"#.utf8))
            #expect(invalid.status == 1)
            let count = try await runtime.callService("host.users.count", json: Data("{}".utf8))
            #expect(Fixtures.json(count.body)["count"] as? Int == 1)
            // A valid token of a user who is gone: the role is read in the call's own scope, so the
            // plugin never runs and nothing the call would write lands.
            try await runtime.store.writeTransaction { session in
                try session.run("DELETE FROM host_refresh_tokens WHERE user_id = ?", [.string(wallet.address)])
                try session.run("DELETE FROM host_users WHERE id = ?", [.string(wallet.address)])
            }
            let gone = try await client.execute(uri: "/api/v1/probe/whoami", method: .post,
                                                headers: [.authorization: "Bearer \(access)"], body: ByteBuffer(string: "{}"))
            #expect(gone.status == .unauthorized)
            #expect(Fixtures.json(Data(gone.body.readableBytesView))["error"] as? String == "user no longer exists")
        }
    }

    @Test func rateLimitRefusesThenRecovers() async throws {
        let clock = TestClock()
        try await withApp(Setup(rateLimit: 5), clock: clock) { client, _ in
            for _ in 0..<5 {
                let status = try await client.execute(uri: "/health", method: .get).status
                #expect(status == .ok)
            }
            let limited = try await client.execute(uri: "/health", method: .get)
            #expect(limited.status == .tooManyRequests)
            #expect(limited.headers[.retryAfter] == "12")
            #expect((Fixtures.json(Data(limited.body.readableBytesView))["error"] as? String)?.hasPrefix("rate limit of 5 requests per minute") == true)
            clock.advance(12)
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/health", method: .get).status == .tooManyRequests)
            // A steady client at the allowed rate is never refused.
            for _ in 0..<20 {
                clock.advance(12)
                #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            }
        }
    }

    private func health(_ client: some TestClientProtocol, forwardedFor: String) async throws -> HTTPResponse.Status {
        try await client.execute(uri: "/health", method: .get, headers: [HTTPField.Name("X-Forwarded-For")!: forwardedFor]).status
    }

    private func expectHealth(_ client: some TestClientProtocol, _ forwardedFor: String, _ expected: HTTPResponse.Status,
                              sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let status = try await health(client, forwardedFor: forwardedFor)
        #expect(status == expected, sourceLocation: sourceLocation)
    }

    @Test func forwardedForIsBelievedOnlyFromTrustedProxies() async throws {
        try await withApp(Setup(rateLimit: 2)) { client, _ in
            // Not trusted: the header is ignored, so spoofed addresses share the socket's budget.
            try await expectHealth(client, "203.0.113.9", .ok)
            try await expectHealth(client, "203.0.113.9", .ok)
            try await expectHealth(client, "198.51.100.1", .tooManyRequests)
        }
        try await withApp(Setup(rateLimit: 2, trustedProxies: ["127.0.0.1"], transport: .live)) { client, _ in
            try await expectHealth(client, "203.0.113.9", .ok)
            try await expectHealth(client, "203.0.113.9", .ok)
            try await expectHealth(client, "203.0.113.9", .tooManyRequests)
            try await expectHealth(client, "198.51.100.1", .ok)
            let echo = try await client.execute(uri: "/api/v1/probe/echo/x", method: .get, headers: [HTTPField.Name("X-Forwarded-For")!: "192.0.2.7, 127.0.0.1"])
            #expect(Fixtures.json(Data(echo.body.readableBytesView))["client_ip"] as? String == "192.0.2.7")
        }
    }

    @Test func corsAnswersPreflightsForAllowedOrigins() async throws {
        try await withApp(Setup(origins: ["https://app.stelltron.example"])) { client, _ in
            let preflight = try await client.execute(uri: "/api/v1/auth/me", method: .options, headers: [
                .origin: "https://app.stelltron.example", .accessControlRequestMethod: "GET",
                .accessControlRequestHeaders: "authorization",
            ])
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == "https://app.stelltron.example")
            #expect(preflight.headers[.accessControlAllowCredentials] == "true")
            #expect(preflight.headers[.accessControlAllowHeaders] == "authorization")
            let denied = try await client.execute(uri: "/api/v1/auth/me", method: .options, headers: [
                .origin: "https://evil.example", .accessControlRequestMethod: "GET",
            ])
            #expect(denied.status == .forbidden)
            let simple = try await client.execute(uri: "/health", method: .get, headers: [.origin: "https://evil.example"])
            #expect(simple.headers[.accessControlAllowOrigin] == nil)
        }
        try await withApp(Setup(origins: ["*"])) { client, _ in
            let response = try await client.execute(uri: "/health", method: .get, headers: [.origin: "https://any.example"])
            #expect(response.headers[.accessControlAllowOrigin] == "*")
            #expect(response.headers[.accessControlAllowCredentials] == nil)
        }
    }
}
