import CStelltronPluginAPI
import Foundation

/// Calls into plugins without HTTP: what the testing kit, the validator and tools use.
extension PluginRuntime {
    /// The plugin route that serves `method path`, with its path parameters.
    public func route(method: String, path: String) -> (route: RegisteredRoute, parameters: [String: String])? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        for registered in routes where registered.route.method == method {
            let pattern = registered.route.path.split(separator: "/", omittingEmptySubsequences: false)
            guard pattern.count == segments.count else { continue }
            var parameters: [String: String] = [:]
            var matches = true
            for (expected, actual) in zip(pattern, segments) {
                if expected.hasPrefix(":") {
                    if actual.isEmpty { matches = false; break }
                    parameters[String(expected.dropFirst())] = String(actual).removingPercentEncoding ?? String(actual)
                } else if expected != actual {
                    matches = false
                    break
                }
            }
            if matches { return (registered, parameters) }
        }
        return nil
    }

    /// Calls a service as the host would for a write request: one transaction, committed when the
    /// service answers STL_OK, events published after commit.
    public func callService(_ name: String, json: Data) async throws -> (status: Int32, body: Data) {
        let (outcome, events): (LoadedPlugin.Outcome, [PendingEvent]) = try await store.pool.writeWithoutTransaction { db in
            let scope = CallScope(access: .write(db), requestID: "direct")
            var outcome = LoadedPlugin.Outcome(status: STL_ERR_INTERNAL, body: Data())
            try db.inTransaction(.immediate) {
                let arena = CStringArena()
                outcome = self.callService(name: name, request: arena.str(json), from: CallContext(runtime: self, plugin: nil, scope: scope))
                return outcome.status == STL_OK ? .commit : .rollback
            }
            return (outcome, outcome.status == STL_OK ? scope.events : [])
        }
        publishCommitted(events)
        return (outcome.status, outcome.body)
    }
}
