import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Calls each plugin's `tick` at the interval it declared, while the server runs. One task per
/// plugin; a failing tick is logged by the runtime and retried at the next interval. Replicas on
/// one PostgreSQL database tick on the one holding the periodic-work lease, which another takes
/// over within a second or so of its holder dying.
struct TickService: Service {
    let runtime: PluginRuntime

    /// How often a replica asks whether it holds (or can take) the lease.
    static let leaseCheckInterval = Duration.seconds(1)

    func run() async throws {
        let ticking = runtime.configuration.periodicWork ? runtime.plugins.filter { $0.declaration.tickIntervalMilliseconds > 0 } : []
        // A service that returns ends the whole server, so with nothing to tick, wait for shutdown.
        guard !ticking.isEmpty else {
            try await gracefulShutdown()
            return
        }
        let lease = runtime.store.makePeriodicWorkLease(logger: runtime.logger)
        defer { lease?.release() }
        await cancelWhenGracefulShutdown { await tickForever(ticking, lease: lease) }
    }

    private func tickForever(_ ticking: [LoadedPlugin], lease: (any PeriodicWorkLease)?) async {
        // One task asks for the lease; the tick tasks read its answer.
        let holdsLease = Atomic<Bool>(lease == nil)
        await withTaskGroup(of: Void.self) { group in
            if let lease {
                group.addTask {
                    while !Task.isCancelled {
                        holdsLease.store(await lease.isHeld(), ordering: .relaxed)
                        try? await Task.sleep(for: Self.leaseCheckInterval)
                    }
                }
            }
            for plugin in ticking {
                group.addTask {
                    let interval = Duration.milliseconds(Int(plugin.declaration.tickIntervalMilliseconds))
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        if Task.isCancelled { break }
                        guard holdsLease.load(ordering: .relaxed) else { continue }
                        do {
                            try await runtime.tick(plugin)
                        } catch {
                            runtime.logger.error("tick failed", metadata: ["plugin": .string(plugin.id), "error": .string("\(error)")])
                        }
                    }
                }
            }
        }
    }
}
