import Foundation

/// A minimal Server-Sent Events client over a plain TCP socket, for tests that must see the
/// stream as a browser does: status line, headers, chunked body, `id:`/`data:` lines and
/// keep-alive comments. It never blocks a thread while waiting (the cooperative pool may have as
/// few threads as cores, and the server under test needs them): it polls and sleeps instead.
public final class SSEClient {
    public struct Message: Equatable, Sendable {
        public var id: String?
        public var data: String
        /// Comment lines (`: keep-alive`) that came before this message.
        public var comments: [String]
    }

    public private(set) var status = 0
    public private(set) var headers: [String: String] = [:]
    private let socket: Int32
    private var raw = Data()
    private var body = Data()
    private var pendingComments: [String] = []

    public init(port: Int, path: String = "/iot/events", lastEventID: String? = nil, timeout: Double = 10) async throws {
        socket = try connectLoopback(port: port)
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAccept: text/event-stream\r\n"
        if let lastEventID { request += "Last-Event-ID: \(lastEventID)\r\n" }
        request += "\r\n"
        _ = request.withCString { send(socket, $0, strlen($0), 0) }
        try await readHeaders(timeout: timeout)
    }

    deinit { close(socket) }

    /// The next event (`id:` + `data:`), skipping comments; nil when the server closed the stream
    /// or nothing came within `timeout` seconds.
    public func next(timeout: Double = 10) async throws -> Message? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let message = takeMessage() { return message }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return nil }
            guard try await receive(timeout: remaining) else { return takeMessage() }
            dechunk()
        }
    }

    /// Waits up to `timeout` seconds for a comment line `text`; returns the comments seen so far
    /// that were not followed by an event yet.
    public func comments(waitingFor text: String, timeout: Double) async throws -> [String] {
        let deadline = Date().addingTimeInterval(timeout)
        _ = takeMessage(keepComments: true)
        while !pendingComments.contains(text) && deadline.timeIntervalSinceNow > 0 {
            if try await !receive(timeout: deadline.timeIntervalSinceNow) { break }
            dechunk()
            _ = takeMessage(keepComments: true)
        }
        return pendingComments
    }

    /// True when the server closed the connection within `timeout`.
    public func waitForClose(timeout: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            if try await !receive(timeout: deadline.timeIntervalSinceNow) {
                return closed
            }
        }
        return false
    }

    private var closed = false

    private func readHeaders(timeout: Double) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        let separator = Data("\r\n\r\n".utf8)
        while raw.range(of: separator) == nil {
            guard deadline.timeIntervalSinceNow > 0, try await receive(timeout: deadline.timeIntervalSinceNow) else {
                throw TestHostError(message: "no response headers")
            }
        }
        let range = raw.range(of: separator)!
        let lines = String(decoding: raw[..<range.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        raw = Data(raw[range.upperBound...])
        dechunk()
    }

    /// Moves complete chunks of a chunked body from `raw` to `body`.
    private func dechunk() {
        guard headers["transfer-encoding"]?.lowercased() == "chunked" else {
            body.append(raw)
            raw.removeAll()
            return
        }
        let crlf = Data("\r\n".utf8)
        while let lineEnd = raw.range(of: crlf) {
            let sizeText = String(decoding: raw[raw.startIndex..<lineEnd.lowerBound], as: UTF8.self)
            guard let size = Int(sizeText.split(separator: ";").first ?? "", radix: 16) else { return }
            let start = lineEnd.upperBound
            guard raw.count - (start - raw.startIndex) >= size + 2 else { return }
            body.append(raw[start..<(start + size)])
            raw = Data(raw[(start + size + 2)...])
            if size == 0 { closed = true; return }
        }
    }

    private func takeMessage(keepComments: Bool = false) -> Message? {
        let separator = Data("\n\n".utf8)
        while let range = body.range(of: separator) {
            let block = String(decoding: body[body.startIndex..<range.lowerBound], as: UTF8.self)
            body = Data(body[range.upperBound...])
            var message = Message(id: nil, data: "", comments: [])
            var dataLines: [String] = []
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(":") {
                    pendingComments.append(String(line.dropFirst()).trimmingCharacters(in: .whitespaces))
                } else if line.hasPrefix("id:") {
                    message.id = String(line.dropFirst(3)).trimmingCharacters(in: .whitespaces)
                } else if line.hasPrefix("data:") {
                    dataLines.append(String(line.dropFirst(5)).trimmingCharacters(in: .init(charactersIn: " ")))
                }
            }
            if dataLines.isEmpty { continue }
            message.data = dataLines.joined(separator: "\n")
            message.comments = pendingComments
            if !keepComments { pendingComments.removeAll() }
            return message
        }
        return nil
    }

    /// Reads what is available within `timeout`; false on timeout or when the peer closed.
    private func receive(timeout: Double) async throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
            if poll(&descriptor, 1, 0) > 0 { break }
            if deadline.timeIntervalSinceNow <= 0 { return false }
            try await Task.sleep(for: .milliseconds(2))
        }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = recv(socket, &chunk, chunk.count, 0)
        if count <= 0 { closed = true; return false }
        raw.append(contentsOf: chunk[0..<count])
        return true
    }
}
