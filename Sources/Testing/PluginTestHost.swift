import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOEmbedded
import StelltronHost
import StelltronPluginKit

/// Loads one plugin library in isolation with an in-memory host — a temporary database (`TestDatabase`),
/// captured events and stub services — and drives its routes through the host's real router and
/// its services through the real ABI.
/// This is what a third party uses to test its plugin without the rest of Stelltron:
///
///     let host = try PluginTestHost(library: "/path/libMyScheduler.so",
///                                   config: ["threshold": 40],
///                                   stubs: ["ledger.mint": { _ in (0, Data("{}".utf8)) }])
///     let answer = try await host.request("POST", "/iot/cmd", json: #"{"device_id":"pi"}"#)
///     #expect(answer.status == 200)
// Sendable: `lock` guards `captured` and `router`; everything else is set in init and never changes.
public final class PluginTestHost: @unchecked Sendable {
    public let runtime: PluginRuntime
    /// Every event published so far, in order.
    public var events: [HubEvent] { lock.withLock { captured } }

    private let lock = NSLock()
    private var captured: [HubEvent] = []
    private var captureTask: Task<Void, Never>?
    private var router: (HostResponder, AuthService)?

    /// - Parameters:
    ///   - library: the plugin's `.so`.
    ///   - config: the plugin's `[plugin.config]` table.
    ///   - stubs: services the plugin calls, answered by closures (status 0 = STL_OK).
    ///   - clock: the host clock the plugin sees.
    public init(library: String, config: [String: JSONValue] = [:], stubs: [String: StubService] = [:],
                clock: @escaping @Sendable () -> Date = { Date() }) throws {
        let id = try Self.pluginID(of: library)
        var configuration = HostConfiguration(plugins: [
            .init(id: id, library: library, config: config),
        ])
        configuration.databasePath = TestDatabase.privateLocation()
        configuration.auth.jwtSecret = TestDatabase.jwtSecret()
        // A test sends as many requests as it likes, all from one address.
        configuration.rateLimitPerMinute = 0
        var logger = Logger(label: "stelltron.test")
        logger.logLevel = .warning
        runtime = try PluginRuntime(configuration: configuration, logger: logger, clock: clock, stubServices: stubs)
        // Subscribed here, synchronously: events published before the task runs wait in the stream.
        let subscription = runtime.hub.subscribe()
        captureTask = Task { [weak self] in
            for await event in subscription.events {
                self?.lock.withLock { self?.captured.append(event) }
            }
        }
    }

    deinit {
        captureTask?.cancel()
        runtime.shutdown()
    }

    /// Sends a request through the host's real router — its middleware, route table, bearer
    /// authentication and JSON errors, without sockets (Hummingbird's router test mode) — as the
    /// signed-in `user` when given: the kit stores the user with that role and sends a real access
    /// token. `pathAndQuery` may carry a query after `?`.
    public func request(_ method: String, _ pathAndQuery: String, json: String? = nil, headers: [String: String] = [:],
                        user: AuthenticatedUser? = nil) async throws -> HostResponse {
        let (responder, auth) = try await http()
        guard let httpMethod = HTTPRequest.Method(method) else { throw TestHostError(message: "not an HTTP method: \(method)") }
        var fields = HTTPFields()
        for (name, value) in headers {
            guard let field = HTTPField.Name(name) else { throw TestHostError(message: "not a header name: \(name)") }
            fields[field] = value
        }
        if let user {
            let stored = try await runtime.store.writeTransaction { [clock = runtime.clock] session in
                try UserStore.seed(user.id, role: user.role, at: clock(), in: session)
            }
            fields[.authorization] = "Bearer \(try await auth.accessToken(for: stored))"
        }
        let body = ByteBuffer(string: json ?? "")
        if json != nil { fields[.contentLength] = String(body.readableBytes) }
        let request = Request(head: .init(method: httpMethod, scheme: "http", authority: "localhost", path: pathAndQuery, headerFields: fields),
                              body: RequestBody(buffer: body))
        let channel = NIOAsyncTestingChannel()
        channel.remoteAddress = try SocketAddress(ipAddress: "127.0.0.1", port: 40000)
        // What the server does for every request: a request id in the logger's metadata.
        var logger = runtime.logger
        logger[metadataKey: "hb.request.id"] = .stringConvertible(RequestID())
        let context = HostRequestContext(source: .init(channel: channel, logger: logger))
        let response: Response
        do {
            response = try await responder.respond(to: request, context: context)
        } catch let error as HTTPResponseError {
            // What the server does with an error no middleware turned into a response.
            response = try error.response(from: request, context: context)
        }
        let collector = BodyCollector()
        try await response.body.write(collector)
        return HostResponse(status: response.status.code, body: collector.box.bytes)
    }

    /// The router and the sign-in service, built on first use (building them is asynchronous).
    private func http() async throws -> (HostResponder, AuthService) {
        if let built = lock.withLock({ router }) { return built }
        let auth = try await AuthService(configuration: runtime.configuration, store: runtime.store, clock: runtime.clock)
        let built = (buildRouter(runtime: runtime, auth: auth).buildResponder(), auth)
        return lock.withLock {
            if let router { return router }
            router = built
            return built
        }
    }

    /// Calls one of the plugin's services as the host would, in its own transaction.
    public func callService(_ name: String, json: String) async throws -> (status: Int32, body: Data) {
        try await runtime.callService(name, json: Data(json.utf8))
    }

    /// Waits until `count` events were captured (events are delivered asynchronously).
    public func waitForEvents(_ count: Int, timeout: Duration = .seconds(5)) async -> [HubEvent] {
        let deadline = ContinuousClock.now + timeout
        while events.count < count && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return events
    }

    private static func pluginID(of library: String) throws -> String {
        try PluginChecker.declaration(file: library).id
    }
}

/// Collects a response body. The body writes into a copy of its writer, so the bytes live in a
/// shared box the caller keeps.
private struct BodyCollector: ResponseBodyWriter {
    final class Box: @unchecked Sendable {
        // Written by one body writer at a time, read after it finished.
        var bytes = Data()
    }

    let box = Box()

    mutating func write(_ buffer: ByteBuffer) async throws {
        box.bytes.append(contentsOf: buffer.readableBytesView)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

public struct TestHostError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    public init(message: String) {
        self.message = message
    }
}
