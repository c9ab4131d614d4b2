import Foundation
import Logging
import StelltronHost
import StelltronPluginKit

/// Loads one plugin library in isolation with an in-memory host — a temporary SQLite database,
/// captured events and stub services — and drives its routes and services through the real ABI.
/// This is what a third party uses to test its plugin without the rest of Stelltron:
///
///     let host = try PluginTestHost(library: "/path/libMyScheduler.so",
///                                   config: ["threshold": 40],
///                                   stubs: ["ledger.mint": { _ in (0, Data("{}".utf8)) }])
///     let answer = try await host.request("POST", "/iot/cmd", json: #"{"device_id":"pi"}"#)
///     #expect(answer.status == 200)
public final class PluginTestHost: @unchecked Sendable {
    public let runtime: PluginRuntime
    /// Every event published so far, in order.
    public var events: [HubEvent] { lock.withLock { captured } }

    private let lock = NSLock()
    private var captured: [HubEvent] = []
    private var captureTask: Task<Void, Never>?

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
        configuration.databasePath = ":memory:"
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

    /// Sends a request to the route that matches `method path` (query after `?`), as an
    /// authenticated `user` when given. Returns 404/405-free results only for declared routes:
    /// an undeclared route is a test mistake and throws.
    public func request(_ method: String, _ pathAndQuery: String, json: String? = nil, headers: [String: String] = [:],
                        user: AuthenticatedUser? = nil) async throws -> HostResponse {
        let parts = pathAndQuery.split(separator: "?", maxSplits: 1)
        let path = String(parts.first ?? "")
        var query: [String: String] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                query[kv[0]] = kv.count > 1 ? kv[1] : ""
            }
        }
        guard let (route, parameters) = runtime.route(method: method, path: path) else {
            throw TestHostError(message: "no declared route matches \(method) \(path)")
        }
        let request = HostRequest(
            method: method, path: path, pathParameters: parameters, query: query, headers: headers,
            body: Data((json ?? "").utf8), clientIP: "127.0.0.1", requestID: "test-\(UUID().uuidString.prefix(8))",
            user: route.route.isProtected ? user : nil)
        if route.route.isProtected && user == nil {
            return HostResponse(status: 401, body: Data(#"{"error":"authentication required"}"#.utf8))
        }
        return try await runtime.serve(route, request)
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

public struct TestHostError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }

    public init(message: String) {
        self.message = message
    }
}
