import Foundation
import JWTKit

/// The claims of an access token: `sub` and `user_id` are the Stellar address, `role` the role at
/// issue time (informative only: authorization always reads the stored role).
struct AccessClaims: JWTPayload {
    var sub: SubjectClaim
    var user_id: String
    var role: String
    var iat: IssuedAtClaim
    var exp: ExpirationClaim

    /// Expiry is checked by `AccessTokens.verify` against the host clock, not the wall clock.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Issues and verifies HS256 access tokens with jwt-kit. Only HS256 with the host's secret is
/// accepted: a token signed with another algorithm, or `alg: none`, fails verification.
final class AccessTokens: Sendable {
    let lifetime: TimeInterval
    private let keys: JWTKeyCollection

    init(secret: [UInt8], lifetime: TimeInterval) async {
        self.lifetime = lifetime
        keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
    }

    func issue(for user: User, at now: Date) async throws -> String {
        let issued = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let claims = AccessClaims(sub: .init(value: user.id), user_id: user.id, role: user.role,
                                  iat: .init(value: issued), exp: .init(value: issued.addingTimeInterval(lifetime)))
        return try await keys.sign(claims)
    }

    /// The verified claims, or nil for a token that is malformed, tampered, signed otherwise, or
    /// expired at `now`.
    func verify(_ token: String, at now: Date) async -> AccessClaims? {
        guard let claims = try? await keys.verify(token, as: AccessClaims.self) else { return nil }
        guard claims.exp.value > now, claims.sub.value == claims.user_id else { return nil }
        return claims
    }
}
