import Hummingbird

/// Decides who calls a protected route. The host asks it for every route a plugin declares
/// protected and passes the answer (id and the role stored now) to the plugin.
public protocol Authenticator: Sendable {
    /// Returns the caller — resolved, or a verified user id whose stored role the runtime reads in
    /// the call's own scope — or throws an `APIError` (401) when the request carries no valid proof.
    func authenticate(_ request: Request, context: HostRequestContext) async throws -> Caller

    /// `authenticate`'s answer when it is known without waiting: what an event loop needs to serve
    /// the request itself (`InlineRequests`). `.undecided` sends the request the ordinary way.
    func authenticateNow(_ headers: HTTPFields) -> AuthenticationNow
}

/// What an authenticator knows of a request's proof without waiting for anything.
public enum AuthenticationNow: Sendable {
    /// The caller `authenticate` would return.
    case caller(Caller)
    /// The refusal `authenticate` would throw.
    case refused(APIError)
    /// Only `authenticate` can tell.
    case undecided
}

extension Authenticator {
    public func authenticateNow(_ headers: HTTPFields) -> AuthenticationNow { .undecided }
}
