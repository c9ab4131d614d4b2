import CSodium
import Foundation

/// SEP-53 message signatures, as wallets' `signMessage` and the Stellar SDKs' `sign_message`
/// produce them: Ed25519 over `SHA256("Stellar Signed Message:\n" + message)`.
public enum StellarSignature {
    static let prefix = "Stellar Signed Message:\n"

    /// The 32-byte digest a wallet signs for `message`.
    public static func digest(of message: String) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        let bytes = Array((prefix + message).utf8)
        crypto_hash_sha256(&digest, bytes, UInt64(bytes.count))
        return digest
    }

    /// True when `signatureBase64` (standard base64 of 64 bytes) is `address`'s signature of
    /// `message`. Malformed base64 or a wrong length is simply not a valid signature.
    public static func isValid(signatureBase64: String, message: String, address: StellarAddress) -> Bool {
        guard let signature = Data(base64Encoded: signatureBase64), signature.count == Int(crypto_sign_BYTES) else { return false }
        let digest = digest(of: message)
        return signature.withUnsafeBytes { raw in
            crypto_sign_verify_detached(
                raw.bindMemory(to: UInt8.self).baseAddress!, digest, UInt64(digest.count), address.publicKey) == 0
        }
    }
}
