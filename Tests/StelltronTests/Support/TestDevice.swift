import Foundation
import HTTPTypes
import IoTCore

/// A device with a key pair of its own, signing its posts the way `scripts/pi-sim` and the
/// README's Pi sample do.
struct TestDevice: Sendable {
    let id: String
    let keys: DeviceKeyPair

    init(_ id: String, keys: DeviceKeyPair = DeviceKeyPair()) {
        self.id = id
        self.keys = keys
    }

    var publicKey: String { keys.publicKeyHex }

    /// The signature headers of `POST path` with `body`, signed at `date` with `nonce`.
    func headers(_ path: String, _ body: String, at date: Date, nonce: String = TestDevice.nonce()) -> HTTPFields {
        let signed = keys.signPost(method: "POST", path: path, body: Data(body.utf8), timestamp: Int64(date.timeIntervalSince1970), nonce: nonce)
        return [HTTPField.Name("X-Device-Timestamp")!: signed.timestamp ?? "", HTTPField.Name("X-Device-Nonce")!: signed.nonce ?? "",
                HTTPField.Name("X-Device-Signature")!: signed.signature ?? ""]
    }

    /// The claim signature a device gives its owner.
    func claim(by owner: String) -> String { keys.signClaim(deviceID: id, owner: owner) }

    static func nonce() -> String { UUID().uuidString.replacingOccurrences(of: "-", with: "") }
}
