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

    /// Calls a service as the host would for a write request: a write scope of its own, kept when
    /// the service answers STL_OK, events published after commit.
    public func callService(_ name: String, json: Data) async throws -> (status: Int32, body: Data) {
        let outcome: LoadedPlugin.Outcome = try await perform(.write, requestID: "direct") { scope in
            let arena = CStringArena()
            let outcome = self.callService(name: name, request: arena.str(json), from: CallContext(runtime: self, plugin: nil, scope: scope))
            return ScopedAnswer(answer: outcome, keep: outcome.status == STL_OK)
        }
        return (outcome.status, outcome.body)
    }
}
