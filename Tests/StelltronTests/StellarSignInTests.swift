import Foundation
import StelltronHost
import Testing

/// Addresses and SEP-53 signatures checked against vectors from the Python Stellar SDK
/// (`scripts/gen-stellar-vectors.py`), and the rejects a careless verifier would let through.
@Suite("Stellar addresses and signatures")
struct StellarSignInTests {
    struct Vector: Decodable {
        let address: String
        let secret_seed: String
        let public_key_hex: String
        let message: String
        let signature_base64: String
    }

    static let vectors: [Vector] = {
        struct File: Decodable { let vectors: [Vector] }
        let url = Fixtures.repositoryRoot.appendingPathComponent("Tests/StelltronTests/Vectors/stellar-sep53.json")
        return (try? JSONDecoder().decode(File.self, from: Data(contentsOf: url)).vectors) ?? []
    }()

    @Test func everySDKVectorVerifies() throws {
        #expect(Self.vectors.count == 8)
        for vector in Self.vectors {
            let address = try StellarAddress(vector.address)
            #expect(address.publicKey.map { String(format: "%02x", $0) }.joined() == vector.public_key_hex)
            #expect(StellarAddress(publicKey: address.publicKey).description == vector.address)
            #expect(StellarSignature.isValid(signatureBase64: vector.signature_base64, message: vector.message, address: address))
        }
    }

    @Test func signaturesAreBoundToKeyAndMessage() throws {
        let first = Self.vectors[0], second = Self.vectors[1]
        let firstAddress = try StellarAddress(first.address)
        // Wrong key.
        #expect(!StellarSignature.isValid(signatureBase64: first.signature_base64, message: first.message, address: try StellarAddress(second.address)))
        // Wrong message.
        #expect(!StellarSignature.isValid(signatureBase64: first.signature_base64, message: first.message + "!", address: firstAddress))
        // One flipped bit, in every byte position.
        var signature = Data(base64Encoded: first.signature_base64)!
        for index in 0..<signature.count {
            signature[index] ^= 0x01
            #expect(!StellarSignature.isValid(signatureBase64: signature.base64EncodedString(), message: first.message, address: firstAddress))
            signature[index] ^= 0x01
        }
        // Not base64, too short, empty.
        for garbage in ["not base64 !!", "AAAA", ""] {
            #expect(!StellarSignature.isValid(signatureBase64: garbage, message: first.message, address: firstAddress))
        }
    }

    @Test func malformedAddressesAreRefused() {
        let good = Self.vectors[0].address
        #expect(throws: StellarAddress.Problem.length) { try StellarAddress(String(good.dropLast())) }
        #expect(throws: StellarAddress.Problem.length) { try StellarAddress(good + "A") }
        // Last character changed: the checksum no longer matches.
        let last = good.last == "A" ? "B" : "A"
        #expect(throws: StellarAddress.Problem.self) { try StellarAddress(String(good.dropLast()) + last) }
        var flipped = Array(good)
        flipped[10] = flipped[10] == "A" ? "B" : "A"
        #expect(throws: StellarAddress.Problem.checksum) { try StellarAddress(String(flipped)) }
        // A secret seed (S...) has another version byte.
        #expect(throws: StellarAddress.Problem.versionByte) { try StellarAddress(Self.vectors[0].secret_seed) }
        #expect(throws: StellarAddress.Problem.alphabet) { try StellarAddress(String(good.dropLast()) + "1") }
        #expect(throws: StellarAddress.Problem.alphabet) { try StellarAddress(good.lowercased()) }
    }
}
