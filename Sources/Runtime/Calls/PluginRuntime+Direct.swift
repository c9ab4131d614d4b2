import CStelltronPluginAPI
import Foundation

/// Calls into plugins without HTTP: what the testing kit, the validator and the CLI use.
extension PluginRuntime {
    /// Calls a service as the host would for a write request: a write scope of its own, kept when
    /// the service answers STL_OK, events published after commit. `readOnly` runs it on a read
    /// snapshot instead (a writing service is then refused), outside the writer's queue.
    public func callService(_ name: String, json: Data, readOnly: Bool = false) async throws -> (status: Int32, body: Data) {
        let outcome: LoadedPlugin.Outcome = try await perform(readOnly ? .read : .write, requestID: "direct") { scope in
            let arena = CStringArena()
            let outcome = self.callService(name: name, request: arena.str(json), from: CallContext(runtime: self, plugin: nil, scope: scope))
            return ScopedAnswer(answer: outcome, keep: outcome.status == STL_OK)
        }
        return (outcome.status, Data(outcome.body))
    }
}
