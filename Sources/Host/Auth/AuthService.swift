import Foundation

/// Wallet sign-in: signature checks, users, access and refresh tokens, challenges. The HTTP
/// endpoints and the authenticator are thin shells over this.
public final class AuthService: Sendable {
    let settings: AuthSettings
    let tokens: AccessTokens
    let store: any StorageEngine
    let clock: @Sendable () -> Date

    public init(configuration: HostConfiguration, store: any StorageEngine, clock: @escaping @Sendable () -> Date) async throws {
        settings = configuration.auth
        tokens = await AccessTokens(secret: try JWTSecret.resolve(configuration), lifetime: configuration.auth.accessTokenSeconds)
        self.store = store
        self.clock = clock
    }

    /// A sign-in attempt as the contract's body carries it (`message` is our optional extension).
    struct Proof: Decodable {
        var wallet_address: String
        var signature: String
        var message: String?
    }

    /// Checks the proof; consumes its challenge when it uses one. Runs in the caller's transaction.
    func verify(_ proof: Proof, in session: StorageSession) throws -> StellarAddress {
        let address: StellarAddress
        do {
            address = try StellarAddress(proof.wallet_address)
        } catch {
            throw APIError(.badRequest, "invalid wallet address")
        }
        let message = proof.message ?? Challenges.staticMessage
        if message == Challenges.staticMessage {
            if settings.requireChallenge {
                throw APIError(.unauthorized, "a one-time challenge is required: POST /api/v1/auth/challenge, then sign its message")
            }
        } else if !message.hasPrefix(Challenges.prefix) {
            throw APIError(.badRequest, "message must be \(Challenges.staticMessage) or a challenge from /api/v1/auth/challenge")
        }
        guard StellarSignature.isValid(signatureBase64: proof.signature, message: message, address: address) else {
            throw APIError(.unauthorized, "invalid wallet signature")
        }
        // The challenge is spent only by a valid signature, so a forger cannot burn it.
        if message != Challenges.staticMessage, try !Challenges.consume(message, for: address, at: clock(), in: session) {
            throw APIError(.unauthorized, "challenge is unknown, expired or already used")
        }
        return address
    }

    func challenge(for walletAddress: String) async throws -> (message: String, expiresAt: Date) {
        guard let address = try? StellarAddress(walletAddress) else { throw APIError(.badRequest, "invalid wallet address") }
        let now = clock()
        return try await store.writeTransaction { session in
            try Challenges.create(for: address, lifetime: self.settings.challengeSeconds, at: now, in: session)
        }
    }

    func signUp(_ proof: Proof) async throws -> (user: User, created: Bool) {
        let now = clock()
        return try await store.writeTransaction { session in
            let address = try self.verify(proof, in: session)
            return try UserStore.signUp(address.description, at: now, in: session)
        }
    }

    func logIn(_ proof: Proof) async throws -> (access: String, refresh: String) {
        let now = clock()
        let (user, refresh): (User, String) = try await store.writeTransaction { session in
            let address = try self.verify(proof, in: session)
            guard let user = try UserStore.find(address.description, in: session) else {
                throw APIError(.notFound, "no user with this wallet: sign up first")
            }
            return (user, try RefreshTokens.issue(for: user.id, lifetime: self.settings.refreshTokenSeconds, at: now, in: session))
        }
        return (try await tokens.issue(for: user, at: now), refresh)
    }

    func refresh(_ token: String) async throws -> (access: String, refresh: String) {
        let now = clock()
        // A reuse must revoke the family even though the request fails, so the revocation commits
        // in its own transaction before the 401 is thrown.
        let outcome: Result<(User, String), RefreshTokens.Failure> = try await store.writeTransaction { session in
            do {
                let (userID, next) = try RefreshTokens.rotate(token, lifetime: self.settings.refreshTokenSeconds, at: now, in: session)
                guard let user = try UserStore.find(userID, in: session) else { return .failure(.unknown) }
                return .success((user, next))
            } catch let failure as RefreshTokens.Failure {
                return .failure(failure)
            }
        }
        switch outcome {
        case .success(let (user, next)):
            return (try await tokens.issue(for: user, at: now), next)
        case .failure(.reused):
            throw APIError(.unauthorized, "refresh token was already used; the session is revoked")
        case .failure(.expired):
            throw APIError(.unauthorized, "refresh token expired")
        case .failure(.unknown):
            throw APIError(.unauthorized, "invalid refresh token")
        }
    }

    /// A real access token for a stored user, as login issues it (the testing kit signs its
    /// callers in with this; the server itself issues tokens only for valid wallet proofs).
    public func accessToken(for user: User) async throws -> String {
        try await tokens.issue(for: user, at: clock())
    }

    /// The user id of a valid `Bearer` token (signature, algorithm, lifetime), without storage.
    func userID(forAccessToken token: String) async throws -> String {
        guard let claims = await tokens.verify(token, at: clock()) else { throw Self.invalidAccessToken }
        return claims.user_id
    }

    /// The refusal of a token that is malformed, tampered, signed otherwise or expired.
    static let invalidAccessToken = APIError(.unauthorized, "invalid or expired access token")

    /// The caller of a `Bearer` token, with the role stored now.
    func user(forAccessToken token: String) async throws -> User {
        let id = try await userID(forAccessToken: token)
        guard let user = try await store.read({ session in try UserStore.find(id, in: session) }) else {
            throw APIError(.unauthorized, "user no longer exists")
        }
        return user
    }
}
