import CSodium
import Foundation
import StelltronRuntime

/// Refresh tokens: random UUIDs, stored only as SHA-256 hashes, one family per sign-in session.
/// Using one rotates it (the old one is revoked, a new one issued in the same family); presenting
/// a revoked one means it leaked, so the whole family is revoked.
enum RefreshTokens {
    enum Failure: Error, Equatable {
        case unknown, expired, reused
    }

    static func issue(for userID: String, family: String? = nil, lifetime: TimeInterval, at now: Date, in session: StorageSession) throws -> String {
        let token = UUID().uuidString.lowercased()
        try session.run(
            "INSERT INTO host_refresh_tokens (token_hash, user_id, family_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?)",
            [.string(hash(token)), .string(userID), .string(family ?? UUID().uuidString),
             .int(Int64(now.timeIntervalSince1970 + lifetime)), .int(Int64(now.timeIntervalSince1970))])
        return token
    }

    /// Revokes `token` and issues its successor; returns the user id and the new token.
    static func rotate(_ token: String, lifetime: TimeInterval, at now: Date, in session: StorageSession) throws -> (userID: String, token: String) {
        guard let row = try session.rows(
            "SELECT user_id, family_id, expires_at, revoked_at FROM host_refresh_tokens WHERE token_hash = ?", [.string(hash(token))]).first,
              let family = row["family_id"]?.stringValue, let userID = row["user_id"]?.stringValue,
              let expiresAt = row["expires_at"]?.int64Value else { throw Failure.unknown }
        let nowSeconds = Int64(now.timeIntervalSince1970)
        if row["revoked_at"]?.int64Value != nil {
            try session.run("UPDATE host_refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL",
                            [.int(nowSeconds), .string(family)])
            throw Failure.reused
        }
        guard expiresAt > nowSeconds else { throw Failure.expired }
        try session.run("UPDATE host_refresh_tokens SET revoked_at = ? WHERE token_hash = ?", [.int(nowSeconds), .string(hash(token))])
        return (userID, try issue(for: userID, family: family, lifetime: lifetime, at: now, in: session))
    }

    static func hash(_ token: String) -> String {
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        let bytes = Array(token.utf8)
        crypto_hash_sha256(&digest, bytes, UInt64(bytes.count))
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}
