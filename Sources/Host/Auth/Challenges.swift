import CSodium
import Foundation
import StelltronRuntime

/// One-time sign-in messages, `los-tecnicos-auth:<nonce>`, valid for a few minutes, usable once,
/// bound to the wallet that asked. They make a captured signature worthless for a replay.
enum Challenges {
    static let staticMessage = "los-tecnicos-auth"
    static let prefix = "los-tecnicos-auth:"

    static func create(for address: StellarAddress, lifetime: TimeInterval, at now: Date, in session: StorageSession) throws -> (message: String, expiresAt: Date) {
        var nonceBytes = [UInt8](repeating: 0, count: 16)
        randombytes_buf(&nonceBytes, nonceBytes.count)
        let nonce = nonceBytes.map { String(format: "%02x", $0) }.joined()
        let expiry = now.addingTimeInterval(lifetime)
        try session.run("INSERT INTO host_auth_challenges (nonce, wallet_address, expires_at) VALUES (?, ?, ?)",
                        [.string(nonce), .string(address.description), .int(Int64(expiry.timeIntervalSince1970))])
        // Old challenges are of no use to anyone; keep the table small.
        try session.run("DELETE FROM host_auth_challenges WHERE expires_at < ?", [.int(Int64(now.timeIntervalSince1970) - 86_400)])
        return (prefix + nonce, expiry)
    }

    /// Marks the challenge in `message` used; false if it is unknown, another wallet's, expired or
    /// already used.
    static func consume(_ message: String, for address: StellarAddress, at now: Date, in session: StorageSession) throws -> Bool {
        guard message.hasPrefix(prefix) else { return false }
        let nonce = String(message.dropFirst(prefix.count))
        let seconds = Int64(now.timeIntervalSince1970)
        let changed = try session.run(
            "UPDATE host_auth_challenges SET used_at = ? WHERE nonce = ? AND wallet_address = ? AND used_at IS NULL AND expires_at >= ?",
            [.int(seconds), .string(nonce), .string(address.description), .int(seconds)])
        return changed.changes == 1
    }
}
