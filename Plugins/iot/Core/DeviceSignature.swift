import CSodium
import Foundation
import StelltronPluginKit

/// Device identity: a device holds an Ed25519 key pair of its own and the host keeps only the
/// public key, so a copy of the database forges nothing. A post that mints or earns carries
///
///     X-Device-Timestamp: <unix seconds>
///     X-Device-Nonce:     <16–64 of A–Z a–z 0–9 - _, never reused by this device>
///     X-Device-Signature: hex(Ed25519(secret, message))
///
/// where `message` is `stelltron-device-v1\n<METHOD>\n<path>\n<timestamp>\n<nonce>\n<hex SHA-256 of
/// the body>`. Method and path make a post for one route useless on another; the nonce, kept by
/// the host for the whole timestamp window, makes a resent post useless; the body hash makes an
/// altered one fail.
public enum DeviceSignature {
    /// How far a device clock may drift from the host's, in seconds.
    public static let allowedSkew: Int64 = 300

    public enum Failure: Error, Equatable {
        case missing, malformed, stale, mismatch
    }

    /// The three headers of a signed post, as received.
    public struct Headers: Sendable, Equatable {
        public var timestamp: String?
        public var nonce: String?
        public var signature: String?

        public init(timestamp: String?, nonce: String?, signature: String?) {
            self.timestamp = timestamp
            self.nonce = nonce
            self.signature = signature
        }

        /// True when the post carries no signature headers at all.
        public var isEmpty: Bool { timestamp == nil && nonce == nil && signature == nil }
    }

    public static func message(method: String, path: String, timestamp: Int64, nonce: String, bodySHA256: String) -> [UInt8] {
        Array("stelltron-device-v1\n\(method.uppercased())\n\(path)\n\(timestamp)\n\(nonce)\n\(bodySHA256)".utf8)
    }

    /// The message a device signs to prove to the host that `owner` may claim it.
    public static func claimMessage(deviceID: String, owner: String) -> [UInt8] {
        Array("stelltron-claim-v1\n\(deviceID)\n\(owner)".utf8)
    }

    /// Checks a post's headers against the device's public key at `now` (unix seconds) and
    /// answers the nonce, which the caller must record so that it is never accepted again.
    public static func verify(publicKey: [UInt8], headers: Headers, method: String, path: String, bodySHA256: String,
                              now: Int64) throws -> String {
        guard let timestampText = headers.timestamp, let nonce = headers.nonce, let signatureText = headers.signature else {
            throw Failure.missing
        }
        guard let timestamp = Int64(timestampText), isNonce(nonce), let signature = StelltronKit.Hex.decode(signatureText),
              signature.count == Int(crypto_sign_BYTES), publicKey.count == Int(crypto_sign_PUBLICKEYBYTES) else {
            throw Failure.malformed
        }
        guard abs(now - timestamp) <= allowedSkew else { throw Failure.stale }
        let signed = message(method: method, path: path, timestamp: timestamp, nonce: nonce, bodySHA256: bodySHA256)
        guard crypto_sign_verify_detached(signature, signed, UInt64(signed.count), publicKey) == 0 else { throw Failure.mismatch }
        return nonce
    }

    /// Whether `signature` (hex) is the device's signature of the claim of `deviceID` by `owner`.
    public static func verifyClaim(publicKey: [UInt8], signature: String, deviceID: String, owner: String) -> Bool {
        guard let bytes = StelltronKit.Hex.decode(signature), bytes.count == Int(crypto_sign_BYTES),
              publicKey.count == Int(crypto_sign_PUBLICKEYBYTES) else { return false }
        let signed = claimMessage(deviceID: deviceID, owner: owner)
        return crypto_sign_verify_detached(bytes, signed, UInt64(signed.count), publicKey) == 0
    }

    /// Nonces: 16–64 characters of letters, digits, `-` and `_`.
    public static func isNonce(_ nonce: String) -> Bool {
        (16...64).contains(nonce.utf8.count) && nonce.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }

    public static func sha256Hex(_ data: Data) -> String {
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        let bytes = [UInt8](data)
        crypto_hash_sha256(&digest, bytes, UInt64(bytes.count))
        return StelltronKit.Hex.encode(digest)
    }
}

/// A post to authenticate as the `iot.authenticate` service carries it: what the signature covers,
/// with the body reduced to its hash. Built by the iot plugin for its own routes and by any plugin
/// whose route a device posts to (DePIN heartbeats).
public struct DevicePost: Codable, Sendable {
    public var device_id: String
    public var method: String
    public var path: String
    public var timestamp: String?
    public var nonce: String?
    public var signature: String?
    public var body_sha256: String

    /// The post to `path` with `headers` (lower-case names) and `body`, as it arrived.
    public init(deviceID: String, method: String, path: String, headers: [String: String], body: Data) {
        device_id = deviceID
        self.method = method
        self.path = path
        timestamp = headers["x-device-timestamp"]
        nonce = headers["x-device-nonce"]
        signature = headers["x-device-signature"]
        body_sha256 = DeviceSignature.sha256Hex(body)
    }

    public var headers: DeviceSignature.Headers { .init(timestamp: timestamp, nonce: nonce, signature: signature) }
}

/// A device key pair, for the host's `issue_key` registrations, tests, benchmarks and tools.
/// The 32-byte seed is the secret a device keeps; the host stores `publicKey` only.
public struct DeviceKeyPair: Sendable {
    public let publicKey: [UInt8]
    let secretKey: [UInt8]

    /// A key pair from a 32-byte seed (random when nil).
    public init(seed: [UInt8]? = nil) {
        var publicKey = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        var secretKey = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        if let seed, seed.count == Int(crypto_sign_SEEDBYTES) {
            crypto_sign_seed_keypair(&publicKey, &secretKey, seed)
        } else {
            crypto_sign_keypair(&publicKey, &secretKey)
        }
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// The 32-byte seed, hex: what a device stores to sign.
    public var seedHex: String { StelltronKit.Hex.encode(Array(secretKey.prefix(Int(crypto_sign_SEEDBYTES)))) }
    public var publicKeyHex: String { StelltronKit.Hex.encode(publicKey) }

    public func sign(_ message: [UInt8]) -> String {
        var signature = [UInt8](repeating: 0, count: Int(crypto_sign_BYTES))
        crypto_sign_detached(&signature, nil, message, UInt64(message.count), secretKey)
        return StelltronKit.Hex.encode(signature)
    }

    /// The three headers of a signed post.
    public func signPost(method: String, path: String, body: Data, timestamp: Int64, nonce: String) -> DeviceSignature.Headers {
        let message = DeviceSignature.message(method: method, path: path, timestamp: timestamp, nonce: nonce,
                                              bodySHA256: DeviceSignature.sha256Hex(body))
        return .init(timestamp: String(timestamp), nonce: nonce, signature: sign(message))
    }

    public func signClaim(deviceID: String, owner: String) -> String {
        sign(DeviceSignature.claimMessage(deviceID: deviceID, owner: owner))
    }
}
