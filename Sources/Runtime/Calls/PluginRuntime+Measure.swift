import CStelltronPluginAPI
import Foundation

/// Timing hooks for the benchmarks: they call into plugins exactly as requests do, minus HTTP and
/// transactions, so the cost of the ABI crossing itself can be measured.
extension PluginRuntime {
    /// Calls a read-only service `iterations` times on one read snapshot and returns the total
    /// time. Each call goes host → C → plugin kit → C → host, with the JSON copied both ways.
    public func measureServiceCalls(_ name: String, json: Data, iterations: Int) throws -> Duration {
        guard let sqlite = store as? Store else { throw PluginLoadError(file: name, "the ABI benchmarks run on SQLite") }
        return try sqlite.pool.read { db in
            let scope = CallScope(kind: .read, session: SQLiteSession(db), requestID: "bench")
            let context = CallContext(runtime: self, plugin: nil, scope: scope)
            let arena = CStringArena()
            let request = arena.str(json)
            let clock = ContinuousClock()
            var failures = 0
            let elapsed = clock.measure {
                for _ in 0..<iterations {
                    if callService(name: name, request: request, from: context).status != STL_OK { failures += 1 }
                }
            }
            if failures > 0 { throw PluginLoadError(file: name, "\(failures) of \(iterations) calls failed") }
            return elapsed
        }
    }
}
