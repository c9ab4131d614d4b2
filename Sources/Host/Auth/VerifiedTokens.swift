import Foundation

/// Access tokens whose signature and header this host already checked, with their claims.
///
/// A client sends the same access token with every request of its session; checking it again
/// (base64, JSON, HMAC through jwt-kit) was a tenth of an authenticated read's CPU. Whether a
/// token's signature is valid depends only on the token and this process's secret, so the answer
/// can be kept; what depends on time (expiry, issue time) is still checked on every use by
/// `AccessTokens.verify`. Only tokens that verified are kept, so forged or random tokens cannot
/// fill it; at `capacity` it starts over (a miss costs one verification, nothing more).
// Sendable: `lock` guards `claims`.
final class VerifiedTokens: @unchecked Sendable {
    let capacity: Int
    private let lock = NSLock()
    private var claims: [String: AccessClaims] = [:]

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func claims(of token: String) -> AccessClaims? {
        lock.withLock { claims[token] }
    }

    func keep(_ verified: AccessClaims, for token: String) {
        lock.withLock {
            if claims.count >= capacity { claims.removeAll(keepingCapacity: true) }
            claims[token] = verified
        }
    }
}
