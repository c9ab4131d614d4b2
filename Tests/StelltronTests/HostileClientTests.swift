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
    /// Sends `request` as it is, half-closes, and reads the whole answer.
    static func exchange(port: Int, _ request: [UInt8]) throws -> String {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw TestHostError(message: "socket failed") }
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestHostError(message: "connect failed") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = request.withUnsafeBytes { send(socket, $0.baseAddress, $0.count, 0) }
        shutdown(socket, Int32(SHUT_WR))
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            answer += buffer[0..<count]
        }
        return String(decoding: answer, as: UTF8.self)
    }

    /// C10: a chunk size that is not hex, or a body shorter than announced, is a 400 (or a closed
    /// connection), never a 500.
    @Test func malformedOrTruncatedBodiesAreNever500() async throws {
        try await LiveHost.with(["ledger", "iot"]) { host in
            let port = try #require(host.http.port)
            let chunked = "POST /iot/ping HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
            let truncated = "POST /iot/ping HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"device_id\":"
            let authTruncated = "POST /api/v1/auth/signup HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"wallet"
            for raw in [chunked, truncated, authTruncated] {
                let answer = try Self.exchange(port: port, Array(raw.utf8))
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
        try await LiveHost.with(["ledger", "iot"]) { host in
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
