import CSodium
import Foundation
import StelltronHost

/// A Stellar wallet for tests: an Ed25519 keypair from libsodium that signs SEP-53 messages the
/// way wallets' `signMessage` does.
struct TestWallet {
    let publicKey: [UInt8]
    let secretKey: [UInt8]

    init() {
        var publicKey = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        var secretKey = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        crypto_sign_keypair(&publicKey, &secretKey)
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    var address: String { StellarAddress(publicKey: publicKey).description }

    func sign(_ message: String) -> String {
        let digest = StellarSignature.digest(of: message)
        var signature = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
        crypto_sign_detached(&signature, nil, digest, UInt64(digest.count), secretKey)
        return Data(signature).base64EncodedString()
    }

    /// The sign-in body for `message`; the static contract message leaves `message` out.
    func proof(_ message: String = "los-tecnicos-auth") -> String {
        var body: [String: String] = ["wallet_address": address, "signature": sign(message)]
        if message != "los-tecnicos-auth" { body["message"] = message }
        return String(decoding: try! JSONSerialization.data(withJSONObject: body), as: UTF8.self)
    }
}
