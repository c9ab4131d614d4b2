import Hummingbird

/// The authenticator of protected routes: a valid HS256 access token in `Authorization: Bearer`,
/// and the user's role as stored now (a promotion counts at once; a stale token role never does).
/// The role is read by the runtime in the plugin call's own scope (`Caller.storedUser`).
public struct BearerAuthenticator: Authenticator {
    let auth: AuthService

    public init(auth: AuthService) {
        self.auth = auth
    }

    public func authenticate(_ request: Request, context: HostRequestContext) async throws -> Caller {
        .storedUser(id: try await auth.userID(forAccessToken: try Self.bearerToken(request)))
    }

    static func bearerToken(_ request: Request) throws -> String {
        guard let header = request.headers[.authorization] else {
            throw APIError(.unauthorized, "missing Authorization: Bearer <access_token>")
        }
        let parts = header.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty else {
            throw APIError(.unauthorized, "Authorization must be: Bearer <access_token>")
        }
        return String(parts[1])
    }
}
