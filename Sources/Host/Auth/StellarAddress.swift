import Foundation

/// A Stellar account address (`G...`): RFC 4648 base32 without padding of the version byte 0x30
/// (6 << 3), the 32-byte Ed25519 public key and a CRC16-XModem checksum of the first 33 bytes,
/// little-endian.
public struct StellarAddress: Sendable, Equatable, CustomStringConvertible {
    public let publicKey: [UInt8]
    public let description: String

    static let accountVersionByte: UInt8 = 6 << 3

    public enum Problem: Error, Equatable {
        case length, alphabet, versionByte, checksum
    }

    /// Decodes and checks an address; throws which check failed.
    public init(_ text: String) throws {
        guard text.utf8.count == 56 else { throw Problem.length }
        guard let bytes = Base32.decode(text), bytes.count == 35 else { throw Problem.alphabet }
        guard bytes[0] == Self.accountVersionByte else { throw Problem.versionByte }
        let checksum = UInt16(bytes[33]) | UInt16(bytes[34]) << 8
        guard CRC16XModem.checksum(bytes[0..<33]) == checksum else { throw Problem.checksum }
        publicKey = Array(bytes[1..<33])
        description = text
    }

    /// Encodes a 32-byte Ed25519 public key as a `G...` address.
    public init(publicKey: [UInt8]) {
        precondition(publicKey.count == 32, "an Ed25519 public key has 32 bytes")
        var bytes = [Self.accountVersionByte] + publicKey
        let checksum = CRC16XModem.checksum(bytes[...])
        bytes += [UInt8(checksum & 0xff), UInt8(checksum >> 8)]
        self.publicKey = publicKey
        description = Base32.encode(bytes)
    }
}

/// CRC-16/XMODEM (polynomial 0x1021, initial value 0), as StrKey uses it.
enum CRC16XModem {
    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return crc
    }
}

/// RFC 4648 base32 (upper-case alphabet, no padding).
enum Base32 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
    private static let values: [UInt8: UInt8] = Dictionary(uniqueKeysWithValues: alphabet.enumerated().map { ($1, UInt8($0)) })

    static func decode(_ text: String) -> [UInt8]? {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.utf8 {
            guard let value = values[character] else { return nil }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((buffer >> UInt32(bits)) & 0xff))
            }
        }
        // Leftover bits must be zero padding, or the text is not canonical.
        if bits > 0 && buffer & ((1 << UInt32(bits)) - 1) != 0 { return nil }
        return output
    }

    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                output.append(alphabet[Int((buffer >> UInt32(bits)) & 0x1f)])
            }
        }
        if bits > 0 { output.append(alphabet[Int((buffer << UInt32(5 - bits)) & 0x1f)]) }
        return String(decoding: output, as: UTF8.self)
    }
}
