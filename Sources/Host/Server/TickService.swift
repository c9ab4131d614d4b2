import Foundation
import ServiceLifecycle

/// Calls each plugin's `tick` at the interval it declared, while the server runs. One task per
/// plugin; a failing tick is logged by the runtime and retried at the next interval.
struct TickService: Service {
    let runtime: PluginRuntime

    func run() async throws {
        let ticking = runtime.plugins.filter { $0.declaration.tickIntervalMilliseconds > 0 }
        // A service that returns ends the whole server, so with nothing to tick, wait for shutdown.
        guard !ticking.isEmpty else {
            try await gracefulShutdown()
            return
        }
        try await cancelWhenGracefulShutdown { await tickForever(ticking) }
    }

    private func tickForever(_ ticking: [LoadedPlugin]) async {
        await withTaskGroup(of: Void.self) { group in
            for plugin in ticking {
                group.addTask {
                    let interval = Duration.milliseconds(Int(plugin.declaration.tickIntervalMilliseconds))
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        if Task.isCancelled { break }
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
