import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif
import StelltronHost
import StelltronTesting

/// Issue 14, group C, where a client speaks HTTP badly on purpose: raw bytes over a socket.
@Suite("hostile clients")
struct HostileClientTests {
    /// A raw TCP connection to the host on loopback.
    final class RawConnection {
        let socket: Int32

        init(port: Int) throws {
            socket = try connectLoopback(port: port)
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(socket) }

        func send(_ text: String) {
            _ = Array(text.utf8).withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }

        func halfClose() { shutdown(socket, Int32(SHUT_WR)) }

        /// What arrives next, "" once the host closed the connection (or after 10 s of nothing).
        /// The blocking read runs on its own thread: the host under test needs the cooperative pool.
        func receive() async -> String {
            let socket = socket
            return await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    let count = recv(socket, &buffer, buffer.count, 0)
                    continuation.resume(returning: count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : "")
                }
            }
        }

        /// Everything until the host closes.
        func receiveAll() async -> String {
            var all = ""
            while case let chunk = await receive(), !chunk.isEmpty { all += chunk }
            return all
        }
    }

    /// Sends `request` as it is, half-closes, and reads the whole answer.
    static func exchange(port: Int, _ request: [UInt8]) async throws -> String {
        let connection = try RawConnection(port: port)
        connection.send(String(decoding: request, as: UTF8.self))
        connection.halfClose()
        return await connection.receiveAll()
    }

    static let upgrade = "GET /ws/market HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

    /// C8: an address holds at most `max_connections_per_ip` connections, and a request that does
    /// not arrive whole within `request_timeout_seconds` loses its connection.
    @Test func halfSentRequestsAreClosedAndConnectionsCapped() async throws {
        try await DomainHost.with(["ledger"], configure: {
            $0.connections.maxConnectionsPerIP = 4
            // Long enough that the four still hold their slots when the fifth comes, on a loaded machine.
            $0.connections.requestTimeoutSeconds = 6
        }, over: .live) { host in
            let port = try #require(host.http.port)
            let slow = try (0..<4).map { _ in try RawConnection(port: port) }
            for connection in slow { connection.send("POST /iot/ping HTTP/1.1\r\nHost: x\r\nContent-Le") }
            // Connections become active on two event loops, shared with every other test's server:
            // let the first four take their slots.
            try await Task.sleep(for: .milliseconds(1500))
            let refused = try RawConnection(port: port)
            refused.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await refused.receive().isEmpty) // closed at once: the address is at its quota
            let started = Date()
            for connection in slow { #expect(await connection.receiveAll().isEmpty) }
            #expect(Date().timeIntervalSince(started) < 15) // 4.5 s more, on a loaded machine
            // Their slots are free again (the server counts a connection out when its channel goes
            // inactive, which on a loaded machine may come just after the client saw it close).
            var answer = ""
            for _ in 0..<20 where !answer.hasPrefix("HTTP/1.1 200") {
                answer = try await Self.exchange(port: port, Array("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
                if !answer.hasPrefix("HTTP/1.1 200") { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(answer.hasPrefix("HTTP/1.1 200"))
        }
    }

    /// A client that half-closes right after its request (`nc -N`, some HTTP/1.0 tools) gets its
    /// answer: the request and the end of its input often arrive in one read, and the end must not
    /// close the connection before the answer made on the event loop is flushed.
    @Test func halfClosedRequestsAreAnswered() async throws {
        try await DomainHost.with(["ledger"], over: .live) { host in
            let port = try #require(host.http.port)
            // On the event loop: a constant, a plugin read, a path no route matches, a bad wallet.
            let answers = ["/health": 200, "/api/v1/ledger/balance/GCAC3AZXOEC252YUKGK2XHF5FJ6TA2XXHF3QK7WQTXOLQ4G26UL4AS2R": 200,
                           "/no/such/path": 404, "/api/v1/ledger/balance/GABC": 400]
            for (path, status) in answers {
                for _ in 0..<40 {
                    let answer = try await Self.exchange(port: port, Array("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
                    #expect(answer.hasPrefix("HTTP/1.1 \(status) "), "\(path): \(answer.prefix(40))")
                }
            }
        }
    }

    /// C8: an idle keep-alive connection is closed after `idle_timeout_seconds`; an event stream
    /// with keep-alive comments is not idle.
    @Test func idleConnectionsAreClosedButLiveStreamsStay() async throws {
        try await DomainHost.with(["ledger"], configure: {
            $0.connections.idleTimeoutSeconds = 1.5
            $0.sseKeepAliveSeconds = 0.5
        }, over: .live) { host in
            let port = try #require(host.http.port)
            let stream = try RawConnection(port: port)
            stream.send("GET /iot/events HTTP/1.1\r\nHost: x\r\n\r\n")
            let idle = try RawConnection(port: port)
            idle.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await idle.receive().hasPrefix("HTTP/1.1 200"))
            let started = Date()
            #expect(await idle.receiveAll().isEmpty)
            #expect(Date().timeIntervalSince(started) < 8) // 1.5 s, on a loaded machine
            // The stream kept receiving keep-alives the whole time.
            // (Read until one is there: on a loaded machine the headers and frames come in more pieces.)
            var received = ""
            for _ in 0..<20 where !received.contains(": keep-alive") { received += await stream.receive() }
            #expect(received.contains(": keep-alive"))
        }
    }

    /// C8: live feeds per address are capped (SSE and WebSocket together), and an upgrade counts
    /// against the rate limit like any request. A refused upgrade is closed at once with code
    /// 1013 and the reason (the framework would answer an empty 400 otherwise).
    @Test func liveFeedsAndUpgradesAreLimitedPerAddress() async throws {
        try await DomainHost.with(["ledger"], configure: { $0.connections.maxSubscribersPerIP = 2 }, over: .live) { host in
            let port = try #require(host.http.port)
            let first = try RawConnection(port: port), second = try RawConnection(port: port)
            first.send("GET /iot/events HTTP/1.1\r\nHost: x\r\n\r\n")
            second.send(Self.upgrade)
            #expect(await first.receive().hasPrefix("HTTP/1.1 200"))
            #expect(await second.receive().hasPrefix("HTTP/1.1 101"))
            let (status, answer, _) = try await host.post("/iot/events", "")
            #expect(status == .methodNotAllowed && answer["error"] is String)
            let third = try await host.http.execute(uri: "/iot/events", method: .get)
            #expect(third.status == .tooManyRequests)
            #expect(Fixtures.json(Data(third.body.readableBytesView))["error"] is String)
            let full = try await Self.exchange(port: port, Array(Self.upgrade.utf8))
            #expect(full.hasPrefix("HTTP/1.1 101") && full.contains("at most 2 live feeds"), "\(full)")
        }
        try await DomainHost.with(["ledger"], configure: { $0.rateLimitPerMinute = 3 }, over: .live) { host in
            let port = try #require(host.http.port)
            let feed = try RawConnection(port: port)
            feed.send(Self.upgrade)
            #expect(await feed.receive().hasPrefix("HTTP/1.1 101"))
            for _ in 0..<2 { #expect(try await host.get("/health").0 == .ok) }
            // The fourth request of the minute is an upgrade: refused like any other.
            let limited = try await Self.exchange(port: port, Array(Self.upgrade.utf8))
            #expect(limited.hasPrefix("HTTP/1.1 101") && limited.contains("rate limit of 3 requests per minute exceeded"), "\(limited)")
            #expect(try await host.get("/health").0 == .tooManyRequests)
        }
    }

    /// C10: a chunk size that is not hex, or a body shorter than announced, is a 400 (or a closed
    /// connection), never a 500.
    @Test func malformedOrTruncatedBodiesAreNever500() async throws {
        try await DomainHost.with(["ledger", "iot"], over: .live) { host in
            let port = try #require(host.http.port)
            let chunked = "POST /iot/ping HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
            let truncated = "POST /iot/ping HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"device_id\":"
            let authTruncated = "POST /api/v1/auth/signup HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"wallet"
            for raw in [chunked, truncated, authTruncated] {
                let answer = try await Self.exchange(port: port, Array(raw.utf8))
                #expect(!answer.hasPrefix("HTTP/1.1 5"), "\(answer)")
                if !answer.isEmpty {
                    #expect(answer.hasPrefix("HTTP/1.1 400"), "\(answer)")
                    #expect(answer.contains(#"{"error":"#), "\(answer)")
                }
            }
            // The host still serves.
            #expect(try await host.get("/health").0 == .ok)
        }
    }

    /// C9: a ping padded with CRs and newlines, with fields nobody knows, reaches subscribers as
    /// the compact JSON of what was stored: no raw CR or LF in the frame, no unknown field.
    @Test func eventsCarryWhatTheHostEncodedNotTheClientsBytes() async throws {
        try await DomainHost.with(["ledger", "iot"], over: .live) { host in
            let stream = try await SSEClient(port: try #require(host.http.port))
            let padding = String(repeating: "\r\n\r", count: 8_000)
            let body = #"{\#(padding)"device_id":"rpi-pad",\#(padding)"voltage":3.9,"nodes_detail":[{"uid":"A","voltage":3.9,"soc":50,"state":"IDLE","junk":"\#(String(repeating: "x", count: 2000))"}],"extra":{"a":[1,2,3]}}"#
            #expect(try await host.post("/iot/ping", body).0 == .ok)
            var frame = ""
            while let message = try await stream.next(timeout: 5) {
                if Fixtures.json(Data(message.data.utf8))["type"] as? String == "node_data" { frame = message.data; break }
            }
            #expect(!frame.isEmpty)
            #expect(!frame.contains("\r") && !frame.contains("\n"))
            #expect(!frame.contains("extra") && !frame.contains("junk"))
            #expect(frame.utf8.count < 400)
        }
    }
}
