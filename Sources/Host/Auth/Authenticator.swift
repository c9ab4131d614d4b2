import Hummingbird

/// Decides who calls a protected route. The host asks it for every route a plugin declares
/// protected and passes the answer (id and the role stored now) to the plugin.
public protocol Authenticator: Sendable {
    /// Returns the caller — resolved, or a verified user id whose stored role the runtime reads in
    /// the call's own scope — or throws an `APIError` (401) when the request carries no valid proof.
    func authenticate(_ request: Request, context: HostRequestContext) async throws -> Caller

    /// `authenticate` when the answer is known without waiting and is a caller: what an event
    /// loop needs to serve the request itself (`InlineRequests`). Nil sends the request the
    /// ordinary way, to `authenticate`, which also answers every refusal.
    func authenticateNow(_ headers: HTTPFields) -> Caller?
}

extension Authenticator {
    public func authenticateNow(_ headers: HTTPFields) -> Caller? { nil }
}
