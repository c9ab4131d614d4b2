import CSodium
import Foundation
import StelltronHost

/// Prints a fresh wallet's sign-in body, for scripts that need an account (the HTTP benchmarks).
enum WalletTool {
    static func run() {
        var publicKey = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        var secretKey = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        crypto_sign_keypair(&publicKey, &secretKey)
        let digest = StellarSignature.digest(of: "los-tecnicos-auth")
        var signature = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
        crypto_sign_detached(&signature, nil, digest, UInt64(digest.count), secretKey)
        print(#"{"wallet_address":"\#(StellarAddress(publicKey: publicKey).description)","signature":"\#(Data(signature).base64EncodedString())"}"#)
    }
}
