import CSodium
import CStelltronPluginAPI
import Foundation
import Logging

/// The host's core, independent of HTTP: the loaded plugins, storage, the event hub, and every way
/// of calling into a plugin (routes, services, events, ticks) with the transaction rules of the
/// design: a write request is one transaction spanning all its service calls, events are
/// published only after commit.
// Sendable: everything is immutable after init except `isShutDown` (guarded by `shutdownLock`);
// storage (GRDB's pool, or the PostgreSQL engine's connection pool) serialises its own access,
// and the C table is read-only.
public final class PluginRuntime: @unchecked Sendable {
    public let configuration: HostConfiguration
    /// SQLite (`Store`) or PostgreSQL (`PostgresEngine`), as `configuration.databasePath` says.
    public let store: any StorageEngine
    public let hub: EventHub
    public let logger: Logger
    /// The host's clock; tests move it to make time-dependent behaviour deterministic.
    public let clock: @Sendable () -> Date
    let registry: PluginRegistry
    /// Foreign C functions bound to hook points, by hook name.
    public let hooks: [String: ForeignHook]
    /// Services answered by closures instead of plugins (the testing kit's stubs).
    let stubServices: [String: StubService]
    private let table: UnsafeMutablePointer<stl_host_api>
    /// Numbers events in the database when replicas share it (PostgreSQL); nil on SQLite.
    private let journal: (any EventJournal)?
    /// Write requests share transactions through it (see `GroupCommit`).
    private let groupCommit: GroupCommit
    /// Call durations, batch sizes, storage errors, ticks (no-ops until a backend is bootstrapped).
    let metrics: CallMetrics
    private let slowReadRoutes: SlowReadRoutes
    private let shutdownLock = NSLock()
    private var isShutDown = false

    /// The deepest chain of service calls allowed (A calls B calls C ...), against accidental cycles.
    static let maximumServiceDepth = 16

    public var plugins: [LoadedPlugin] { registry.plugins }
    public var routes: [RegisteredRoute] { registry.routes }
    public var slots: [String: LoadedPlugin] { registry.slots }

    /// Loads every plugin `configuration` names: opens and checks each library, checks conflicts,
    /// runs pending migrations (one transaction per plugin) and creates the instances. Throws a
    /// `PluginLoadError` naming the file and the problem; nothing is half-started.
    public init(configuration: HostConfiguration, logger: Logger = Logger(label: "stelltron"),
                clock: @escaping @Sendable () -> Date = { Date() }, store: (any StorageEngine)? = nil,
                stubServices: [String: StubService] = [:]) throws {
        guard sodium_init() >= 0 else { throw PluginLoadError(file: "libsodium", "sodium_init failed") }
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.stubServices = stubServices
        self.store = try store ?? StorageEngines.open(configuration.databasePath, logger: logger)
        let hub = EventHub(replayCapacity: configuration.eventReplayCapacity,
                           subscriberQueueCapacity: configuration.subscriberQueueCapacity,
                           subscriberQueueBytes: configuration.subscriberQueueBytes)
        self.hub = hub
        let metrics = CallMetrics(plugins: configuration.plugins.map(\.id), timed: !configuration.metricsBind.isEmpty)
        self.metrics = metrics
        journal = try self.store.makeEventJournal(hub: hub, keep: configuration.eventReplayCapacity, logger: logger)
        groupCommit = GroupCommit(engine: self.store, metrics: metrics, journal: journal, clock: clock) { events in
            Self.publish(events, to: hub, at: clock())
        }
        let directory = configuration.pluginDirectory.map { Self.resolve($0, relativeTo: configuration.sourcePath) }
            ?? Self.executableDirectory()
        let loaded = try configuration.plugins.map { entry -> LoadedPlugin in
            let path = entry.library.hasPrefix("/") ? entry.library : URL(fileURLWithPath: directory).appendingPathComponent(entry.library).path
            let library = try PluginLibrary.open(path: path)
            let declaration = try DescriptorReader.read(library.descriptor, file: path)
            guard declaration.id == entry.id else {
                throw PluginLoadError(file: path, "plugins.conf names it '\(entry.id)' but its descriptor id is '\(declaration.id)'")
            }
            return LoadedPlugin(declaration: declaration, file: path, descriptor: library.descriptor, config: entry.config)
        }
        registry = try PluginRegistry(plugins: loaded, configuration: configuration)
        slowReadRoutes = SlowReadRoutes(readRoutes: registry.routes.filter { !$0.route.writes }.map(\.route.path),
                                        thresholdMilliseconds: configuration.slowReadMilliseconds)
        // [hooks] binds against the hook points the loaded plugins declared; the host knows none itself.
        let registry = self.registry
        hooks = try Dictionary(uniqueKeysWithValues: configuration.hooks.map { binding in
            guard let declared = registry.hookPoints[binding.name] else {
                let known = registry.hookPoints.keys.sorted()
                throw PluginLoadError(file: configuration.sourcePath ?? "plugins.conf",
                                      "[hooks] \(binding.name): no loaded plugin declares this hook point; declared: \(known.isEmpty ? "none" : known.joined(separator: ", "))")
            }
            let path = binding.library.hasPrefix("/") ? binding.library : URL(fileURLWithPath: directory).appendingPathComponent(binding.library).path
            return (binding.name, try ForeignHook(name: binding.name, library: path, symbol: binding.symbol, declared: binding.signature,
                                                  expected: declared.point.signature))
        })
        table = HostTable.make()
        for plugin in loaded {
            let outcome = try Migrations.apply(plugin.declaration.migrations, plugin: plugin.id, file: plugin.file, engine: self.store)
            if !outcome.applied.isEmpty {
                logger.info("applied migrations", metadata: ["plugin": .string(plugin.id), "migrations": .string(outcome.applied.joined(separator: ","))])
            }
        }
        for plugin in loaded {
            try create(plugin)
        }
    }

    deinit {
        shutdown()
        table.deallocate()
    }

    /// Destroys every plugin instance, once. Libraries stay loaded (they are never unloaded).
    public func shutdown() {
        shutdownLock.lock()
        defer { shutdownLock.unlock() }
        guard !isShutDown else { return }
        isShutDown = true
        journal?.stop()
        defer { store.releaseIdleConnections() }
        for plugin in registry.plugins.reversed() { plugin.destroy() }
    }

    private func create(_ plugin: LoadedPlugin) throws {
        let outcome = try performAtLoad(requestID: "load-\(plugin.id)") { scope in
            let outcome = metrics.measure(plugin.id, .load) {
                CallContext(runtime: self, plugin: plugin, scope: scope).withPointer { plugin.create(api: table, ctx: $0) }
            }
            return ScopedAnswer(answer: outcome, keep: outcome.status == STL_OK)
        }
        if outcome.status != STL_OK {
            throw PluginLoadError(file: plugin.file, "create failed (status \(outcome.status)): \(String(decoding: outcome.body, as: UTF8.self))")
        }
    }

    // MARK: - Call scopes

    /// The one way into a plugin once the runtime is loaded. Opens a scope of `kind` — a read
    /// snapshot, or a savepoint in the next group-commit batch for writes and ticks — runs `call`
    /// in it, delivers the kept call's events to subscribing plugins inside the same savepoint,
    /// and releases or rolls back as `call` decided. Kept events are published by the group commit
    /// after the batch commits, before this returns; a read scope has none (emitting is refused).
    /// Reads of short routes may skip the hop to a reader thread (`serveOnCallingThread`).
    func perform<Answer>(_ kind: CallKind, requestID: String,
                         _ call: @escaping (CallScope) -> ScopedAnswer<Answer>) async throws -> Answer {
        switch kind {
        case .read:
            return try await store.read { session in call(CallScope(kind: .read, session: session, requestID: requestID)).answer }
        case .write, .tick:
            let outcome = try await groupCommit.submit { session in self.scopedWrite(kind, session, requestID: requestID, call) }
            return outcome.answer as! Answer
        case .load:
            preconditionFailure("load scopes run synchronously through performAtLoad")
        }
    }

    /// `perform` for `create` while the runtime loads: the same scope rules, synchronously, in a
    /// batch of its own.
    private func performAtLoad<Answer>(requestID: String, _ call: (CallScope) -> ScopedAnswer<Answer>) throws -> Answer {
        try withoutActuallyEscaping(call) { call in
            try groupCommit.runAlone { session in self.scopedWrite(.load, session, requestID: requestID, call) }.answer as! Answer
        }
    }

    /// Runs a writing call inside the savepoint the group commit opened for it.
    private func scopedWrite<Answer>(_ kind: CallKind, _ session: StorageSession, requestID: String,
                                     _ call: (CallScope) -> ScopedAnswer<Answer>) -> GroupCommit.Outcome {
        let scope = CallScope(kind: kind, session: session, requestID: requestID)
        let scoped = call(scope)
        if scoped.keep { deliverToSubscribers(in: scope) }
        return .init(answer: scoped.answer, events: scoped.keep ? scope.events : [], keep: scoped.keep)
    }

    /// Hands the scope's events to the plugins that subscribed to them, in the producing
    /// transaction: their writes commit or roll back with the call that caused them. Events the
    /// subscribers emit are published with the others but not delivered again (no event loops).
    private func deliverToSubscribers(in scope: CallScope) {
        let produced = scope.events
        for event in produced {
            for plugin in registry.plugins where plugin.subscribes(to: event.type) {
                let arena = CStringArena()
                metrics.measure(plugin.id, .event) {
                    CallContext(runtime: self, plugin: plugin, scope: scope).withPointer {
                        plugin.deliverEvent(type: arena.str(event.type), payload: arena.str(event.payloadJSON), ctx: $0)
                    }
                }
            }
        }
    }

    // MARK: - Routes

    /// Serves one request with the plugin that declared the route: a write route in a write
    /// scope, rolled back when the answer is 400 or more; a read route on a snapshot.
    public func serve(_ registered: RegisteredRoute, _ request: HostRequest) async throws -> HostResponse {
        if let served = try serveOnCallingThread(registered, request) { return served }
        let marshaled = MarshaledRequest(request, route: registered.route)
        let kind: CallKind = registered.route.writes ? .write : .read
        return try await perform(kind, requestID: request.requestID, routeCall(marshaled, registered.plugin))
    }

    /// A route's call in its scope: kept (released, its events published) unless it answers 400
    /// or more.
    private func routeCall(_ marshaled: MarshaledRequest, _ plugin: LoadedPlugin) -> (CallScope) -> ScopedAnswer<HostResponse> {
        { scope in
            let response = self.answer(marshaled, with: plugin, scope: scope)
            return ScopedAnswer(answer: response, keep: response.status < 400)
        }
    }

    /// `serve` for a read route whose reads run on the calling thread (SQLite; a route whose
    /// reads have not proved slow, `SlowReadRoutes`): the response, synchronously — what the
    /// event loop answers without a task (`InlineRequests`). Nil when the route must go through
    /// `serve`: a write route, an engine whose reads wait for a server, a route moved off the
    /// calling thread.
    public func serveOnCallingThread(_ registered: RegisteredRoute, _ request: HostRequest) throws -> HostResponse? {
        // Whether the route moved is `callingThreadRead`'s to say: not asked twice per read.
        guard !registered.route.writes, store.readsRunOnCallingThread else { return nil }
        let path = registered.route.path
        let read = slowReadRoutes.callingThreadRead(path)
        guard read.onCallingThread else { return nil }
        let marshaled = MarshaledRequest(request, route: registered.route)
        // Only a sampled read is timed, in the thread's own CPU time (`SlowReadRoutes.threadCPUTime`):
        // the clock is a system call, and neither waiting to be scheduled nor being descheduled
        // mid-read (a busy machine, a profiler) should count as a slow read.
        let start = read.timed ? SlowReadRoutes.threadCPUTime() : nil
        let response = try store.readOnCallingThread { session in
            self.answer(marshaled, with: registered.plugin, scope: CallScope(kind: .read, session: session, requestID: request.requestID))
        }
        if let start { slowReadRoutes.record(path, took: SlowReadRoutes.threadCPUTime() - start, logger: logger) }
        return response
    }

    /// Whether `serveOnCallingThread` would serve the route now (it may still move off the
    /// calling thread before the next request).
    public func servesOnCallingThread(_ registered: RegisteredRoute) -> Bool {
        !registered.route.writes && store.readsRunOnCallingThread && !slowReadRoutes.moved(registered.route.path)
    }

    /// `serve` for a write route, for a caller that is not a task (an event loop answering the
    /// request itself, `InlineRequests`): `complete` gets the response, or the storage error,
    /// once the batch committed — on the group commit's task, so the caller hops back itself.
    public func serveWrite(_ registered: RegisteredRoute, _ request: HostRequest,
                           then complete: @escaping @Sendable (Result<HostResponse, Error>) -> Void) {
        precondition(registered.route.writes, "serveWrite is for write routes: \(registered.route.path) reads")
        let call = routeCall(MarshaledRequest(request, route: registered.route), registered.plugin)
        groupCommit.submit({ session in self.scopedWrite(.write, session, requestID: request.requestID, call) },
                           then: { outcome in complete(outcome.map { $0.answer as! HostResponse }) })
    }

    /// Read routes whose reads have moved off the calling thread (`SlowReadRoutes`).
    public var readRoutesOffTheCallingThread: Set<String> { slowReadRoutes.moved }

    /// The plugin's answer inside an open scope: the caller's stored role read first, in the same
    /// scope, when the route is protected.
    private func answer(_ marshaled: MarshaledRequest, with plugin: LoadedPlugin, scope: CallScope) -> HostResponse {
        if case .storedUser(let id)? = marshaled.request.caller,
           let refusal = resolveStoredUser(id, into: marshaled, scope: scope) {
            return refusal
        }
        return invoke(plugin, marshaled, scope: scope)
    }

    /// Reads a verified caller's stored role in the call's own scope; answers the refusal when
    /// the user is gone (or storage fails), nil when the request may go on.
    private func resolveStoredUser(_ id: String, into marshaled: MarshaledRequest, scope: CallScope) -> HostResponse? {
        do {
            guard let role = try UserStore.role(of: id, in: scope.session) else { return .error(401, "user no longer exists") }
            marshaled.setUser(AuthenticatedUser(id: id, role: role))
            return nil
        } catch {
            logger.error("reading the caller failed", metadata: ["request": .string(scope.requestID), "error": "\(error)"])
            return .error(500, "internal error (request \(scope.requestID))")
        }
    }

    private func invoke(_ plugin: LoadedPlugin, _ marshaled: MarshaledRequest, scope: CallScope) -> HostResponse {
        let request = marshaled.request
        let context = CallContext(runtime: self, plugin: plugin, scope: scope)
        let result = withUnsafePointer(to: &marshaled.raw) { pointer in
            metrics.measure(plugin.id, .route) { context.withPointer { plugin.handle(pointer, ctx: $0) } }
        }
        guard result.status == STL_OK, (100...599).contains(result.httpStatus) else {
            logger.error("plugin failed", metadata: [
                "plugin": .string(plugin.id), "request": .string(request.requestID),
                "status": .stringConvertible(result.status), "http": .stringConvertible(result.httpStatus),
                "message": .string(String(decoding: result.body.prefix(2000), as: UTF8.self)),
            ])
            return .error(500, "internal error (request \(request.requestID))")
        }
        return HostResponse(status: result.httpStatus, body: result.body)
    }

    // MARK: - Services

    /// Resolves and calls a service inside the caller's scope. A write scope wraps the call in a
    /// savepoint, so a failed service leaves none of its writes or events behind even when the
    /// caller goes on.
    func callService(name: String, request: stl_str, from caller: CallContext) -> LoadedPlugin.Outcome {
        guard caller.depth < Self.maximumServiceDepth else {
            return .init(status: STL_ERR_INTERNAL, body: Data("service call chain deeper than \(Self.maximumServiceDepth): \(name)".utf8))
        }
        if name.hasPrefix("host.") {
            guard let entry = HostServices.table[name] else {
                return .init(status: STL_ERR_UNKNOWN_SERVICE, body: Data("the host offers no service \(name)".utf8))
            }
            if entry.declaration.writes && !caller.scope.canWrite {
                return .init(status: STL_ERR_STORAGE, body: Data("service \(name) writes and cannot be called from a read-only route".utf8))
            }
            return HostServices.call(entry, request: request.data, from: caller)
        }
        guard let target = registry.serviceTargets[name] else { return unresolved(name, request: request) }
        if target.service.writes && !caller.scope.canWrite {
            return .init(status: STL_ERR_STORAGE, body: Data("service \(name) writes and cannot be called from a read-only route".utf8))
        }
        let plugin = target.plugin
        let child = CallContext(runtime: self, plugin: plugin, scope: caller.scope, depth: caller.depth + 1)
        let call = { self.metrics.measure(plugin.id, .service) { child.withPointer { ctx in target.withName { plugin.callService($0, request: request, ctx: ctx) } } } }
        guard caller.scope.canWrite else { return call() }

        let eventCount = caller.scope.events.count
        let outcome: LoadedPlugin.Outcome
        do {
            outcome = try Savepoint.run(caller.scope.session, named: "service\(child.depth)") {
                let outcome = call()
                return ScopedAnswer(answer: outcome, keep: outcome.status == STL_OK)
            }.answer
        } catch {
            return .init(status: STL_ERR_STORAGE, body: Data("savepoint failed: \(error)".utf8))
        }
        if outcome.status != STL_OK {
            caller.scope.events.removeSubrange(eventCount...)
        }
        return outcome
    }

    /// A name no loaded plugin answers: a filled slot's plugin that lacks it, a test stub, or nothing.
    private func unresolved(_ name: String, request: stl_str) -> LoadedPlugin.Outcome {
        let prefix = String(name.prefix { $0 != "." })
        if let slotPlugin = registry.slots[prefix] {
            return .init(status: STL_ERR_UNKNOWN_SERVICE, body: Data("plugin '\(slotPlugin.id)' in slot \(prefix) offers no service \(name)".utf8))
        }
        if let stub = stubServices[name] {
            let answer = stub(request.data)
            return .init(status: answer.status, body: answer.body)
        }
        return .init(status: STL_ERR_UNKNOWN_SERVICE, body: Data("no loaded plugin offers service \(name)".utf8))
    }

    // MARK: - Events and ticks

    private static func publish(_ events: [PendingEvent], to hub: EventHub, at now: Date) {
        for event in events {
            hub.publish(type: event.type, payloadJSON: event.payloadJSON, at: now)
        }
    }

    /// Runs one plugin's periodic work in a tick scope; an error rolls it back and is logged.
    public func tick(_ plugin: LoadedPlugin) async throws {
        try await perform(.tick, requestID: "tick-\(plugin.id)") { scope in
            let outcome = self.metrics.measure(plugin.id, .tick) {
                CallContext(runtime: self, plugin: plugin, scope: scope).withPointer { plugin.tick(ctx: $0) }
            }
            if outcome.status != STL_OK {
                self.logger.error("tick failed", metadata: ["plugin": .string(plugin.id), "message": .string(String(decoding: outcome.body, as: UTF8.self))])
            } else {
                self.metrics.tickSucceeded(plugin.id, at: self.clock())
            }
            return ScopedAnswer(answer: (), keep: outcome.status == STL_OK)
        }
    }

    // MARK: - Paths

    static func executableDirectory() -> String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().path
    }

    static func resolve(_ path: String, relativeTo configFile: String?) -> String {
        if path.hasPrefix("/") { return path }
        guard let configFile else { return path }
        return URL(fileURLWithPath: configFile).deletingLastPathComponent().appendingPathComponent(path).path
    }
}
