import Foundation
import JWTKit
import StelltronPluginKit

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
/// accepted: the header must say `"alg":"HS256"` (jwt-kit alone would check any HMAC `alg` with
/// the one key it has), and a token may not live longer than the configured lifetime, whatever its
/// signature — a leaked secret then cannot mint tokens that outlive their session.
final class AccessTokens: Sendable {
    let lifetime: TimeInterval
    private let keys: JWTKeyCollection
    /// Signatures already checked (the time-dependent checks run on every use).
    let verified = VerifiedTokens()

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
        if let known = verified.claims(of: token) { return Self.current(known, at: now, lifetime: lifetime) }
        guard Self.headerAlgorithm(of: token) == "HS256", let checked = try? await keys.verify(token, as: AccessClaims.self) else { return nil }
        verified.keep(checked, for: token)
        return Self.current(checked, at: now, lifetime: lifetime)
    }

    /// `verify` for a token whose signature this host already checked: `.some(claims)` when it
    /// is still current, `.some(nil)` when it is not, nil when the signature was never checked
    /// here (only `verify` can: jwt-kit's keys are asynchronous).
    func verifyIfKnown(_ token: String, at now: Date) -> AccessClaims?? {
        verified.claims(of: token).map { Self.current($0, at: now, lifetime: lifetime) }
    }

    /// The time-dependent checks, on every use of a token.
    private static func current(_ claims: AccessClaims, at now: Date, lifetime: TimeInterval) -> AccessClaims? {
        guard claims.exp.value > now, claims.sub.value == claims.user_id else { return nil }
        // A clock a minute ahead of ours is tolerated; a longer lifetime than ours is not.
        guard claims.iat.value <= now.addingTimeInterval(60), claims.exp.value.timeIntervalSince(claims.iat.value) <= lifetime else { return nil }
        return claims
    }

    /// The `alg` of a compact JWT's header, or nil when the header is not base64url JSON.
    /// Byte by byte and with the kit's parser: `replacingOccurrences` and `JSONSerialization` were
    /// 12 % of a request refused for a malformed token (BENCHMARKS.md, issue 16, fifteenth session).
    static func headerAlgorithm(of token: String) -> String? {
        let bytes = token.utf8
        let header = bytes[..<(bytes.firstIndex(of: UInt8(ascii: ".")) ?? bytes.endIndex)]
        var base64 = [UInt8]()
        base64.reserveCapacity(header.count + 3)
        for byte in header {
            switch byte {
            case UInt8(ascii: "-"): base64.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): base64.append(UInt8(ascii: "/"))
            default: base64.append(byte)
            }
        }
        while base64.count % 4 != 0 { base64.append(UInt8(ascii: "=")) }
        guard let json = Data(base64Encoded: Data(base64)),
              case .object(let members)? = try? JSONValue.parse(json),
              case .string(let algorithm)? = members["alg"] else { return nil }
        return algorithm
    }
}
