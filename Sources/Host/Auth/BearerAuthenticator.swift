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

    /// A token whose signature this host checked before and that is still current is its caller;
    /// a missing or malformed header, a token whose header is not HS256 JSON and a checked one that
    /// is no longer current are refused as `authenticate` refuses them. Only a token whose
    /// signature was never checked here needs `authenticate` (jwt-kit's keys are asynchronous).
    public func authenticateNow(_ headers: HTTPFields) -> AuthenticationNow {
        let token: String
        do {
            token = try Self.bearerToken(headers)
        } catch let refusal as APIError {
            return .refused(refusal)
        } catch {
            return .undecided
        }
        switch auth.tokens.verifyIfKnown(token, at: auth.clock()) {
        case .some(.some(let claims)): return .caller(.storedUser(id: claims.user_id))
        case .some(.none): return .refused(AuthService.invalidAccessToken)
        case .none: return AccessTokens.headerAlgorithm(of: token) == "HS256" ? .undecided : .refused(AuthService.invalidAccessToken)
        }
    }

    static func bearerToken(_ request: Request) throws -> String {
        try bearerToken(request.headers)
    }

    static func bearerToken(_ headers: HTTPFields) throws -> String {
        let malformed = APIError(.unauthorized, "Authorization must be: Bearer <access_token>")
        // Found by a scan: `HTTPFields`' subscript joins every value of the name through generic
        // lazy sequences, 1.5 µs of a price request for one header (BENCHMARKS.md, issue 16,
        // fifteenth session). Sent twice, the joined value had a space: refused likewise.
        var found: String?
        for field in headers where field.name == .authorization {
            guard found == nil else { throw malformed }
            found = field.value
        }
        guard var header = found else { throw APIError(.unauthorized, "missing Authorization: Bearer <access_token>") }
        // Byte by byte over the header's own UTF-8 buffer: a token is ~300 bytes, splitting the
        // header as a String walks it grapheme by grapheme (5 % of an authenticated read's CPU in
        // a profile), and a scan through `Substring.UTF8View`'s indices still cost 0.9 µs of a
        // price request (BENCHMARKS.md, issue 16, sixteenth session).
        let token = header.withUTF8 { bytes -> String? in
            // `| 0x20` lowercases ASCII letters and leaves the space; no other byte maps onto these.
            guard bytes.count > scheme.count, zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
            // The scheme's bytes are ASCII: the token starts on a character boundary.
            let token = UnsafeBufferPointer(rebasing: bytes[scheme.count...])
            guard !token.contains(UInt8(ascii: " ")) else { return nil }
            return String(decoding: token, as: UTF8.self)
        }
        guard let token else { throw malformed }
        return token
    }

    /// The scheme, as `bearerToken` compares it (lowercase, with its space).
    private static let scheme = Array("bearer ".utf8)
}
