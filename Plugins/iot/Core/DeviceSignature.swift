import CSodium
import Foundation

/// Device keys: a device that was issued a key signs every `/iot/*` post with
/// `X-Device-Timestamp: <unix seconds>` and
/// `X-Device-Signature: hex(HMAC-SHA256(key, "<timestamp>.<body>"))`.
public enum DeviceSignature {
    /// How far a device clock may drift from the host's, in seconds.
    public static let allowedSkew: Int64 = 300

    public static func sign(key: String, timestamp: Int64, body: Data) -> String {
        var mac = [UInt8](repeating: 0, count: Int(crypto_auth_hmacsha256_BYTES))
        let keyBytes = Array(key.utf8)
        let message = Array("\(timestamp).".utf8) + Array(body)
        var state = crypto_auth_hmacsha256_state()
        crypto_auth_hmacsha256_init(&state, keyBytes, keyBytes.count)
        crypto_auth_hmacsha256_update(&state, message, UInt64(message.count))
        crypto_auth_hmacsha256_final(&state, &mac)
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    public enum Failure: Error, Equatable {
        case missing, stale, mismatch
    }

    /// Checks a post's headers against the device's key at `now` (unix seconds).
    public static func verify(key: String, timestamp: String?, signature: String?, body: Data, now: Int64) throws {
        guard let timestamp, let signature, let seconds = Int64(timestamp) else { throw Failure.missing }
        guard abs(now - seconds) <= allowedSkew else { throw Failure.stale }
        let expected = Array(sign(key: key, timestamp: seconds, body: body).utf8)
        let given = Array(signature.lowercased().utf8)
        guard given.count == expected.count, sodium_memcmp(given, expected, expected.count) == 0 else { throw Failure.mismatch }
    }
}
