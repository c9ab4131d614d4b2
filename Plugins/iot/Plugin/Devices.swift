import Foundation
import IoTCore
import StelltronPluginKit

/// Devices: seen through their pings (no owner, no key), claimed by a user with proof of
/// possession, commissioned by a micro-grid operator (public key + rated power). Under the shipped
/// trust policy only commissioned devices mint (behaviour §13).
struct Devices {
    let host: PluginHost
    let policy: TrustPolicy

    struct Registration: Decodable {
        var device_type: String?
        var location: String?
        var device_id: String?
        /// The host makes the device's key pair and answers its secret once (`device_key`); it
        /// keeps only the public key. Only for a device id nobody has used yet.
        var issue_key: Bool?
        /// The device's own Ed25519 public key (hex), proven by `claim_signature`.
        var public_key: String?
        /// hex(Ed25519(device key, "stelltron-claim-v1\n<device_id>\n<owner address>")).
        var claim_signature: String?
    }

    struct DeviceJSON: Encodable {
        let device_id: String
        let owner_id: String?
        let device_type: String
        let location: String
        let status: String
        let battery_level: Double?
        let online: Bool
        let last_seen: String?
        let registered_at: String
        /// The secret seed, only in the registration answer that issued it.
        var device_key: String?
        let signed_posts: Bool
        let public_key: String?
        let commissioned: Bool
        let rated_kw: Double?
    }

    /// What is stored about a device's identity.
    struct Identity {
        let deviceID: String
        let ownerID: String?
        let publicKey: String?
        let commissionedMs: Int64?
        let ratedKW: Double?
        let claimedMs: Int64?
        let energyUntilMs: Int64?

        var record: DeviceStanding.Record {
            .init(deviceID: deviceID, publicKey: publicKey, commissionedMs: commissionedMs, ratedKW: ratedKW)
        }
    }

    func identity(_ deviceID: String) throws -> Identity? {
        try host.query("""
            SELECT owner_id, public_key, commissioned_ms, rated_kw, claimed_ms, energy_until_ms FROM iot_devices WHERE device_id = ?
            """, [.text(deviceID)]).first.map { row in
            Identity(deviceID: deviceID, ownerID: row["owner_id"]?.stringValue, publicKey: row["public_key"]?.stringValue,
                     commissionedMs: row["commissioned_ms"]?.int64Value, ratedKW: row["rated_kw"]?.doubleValue,
                     claimedMs: row["claimed_ms"]?.int64Value, energyUntilMs: row["energy_until_ms"]?.int64Value)
        }
    }

    /// Marks the device seen, creating it without an owner on its first ping. A ping never makes
    /// a device claimable without proof: see `register`.
    static func touch(_ host: PluginHost, _ deviceID: String, at now: Int64) throws {
        try host.execute("""
            INSERT INTO iot_devices (device_id, status, last_seen_ms, registered_at) VALUES (?, 'online', ?, ?)
            ON CONFLICT(device_id) DO UPDATE SET status = 'online', last_seen_ms = excluded.last_seen_ms
            """, [.text(deviceID), .int(now), .text(Timestamp.iso8601(host.now()))])
    }

    /// Registers a new device id for `owner` (optionally with a key pair: issued here, or the
    /// device's own proven by a claim signature), updates one of the owner's devices, or claims a
    /// known ownerless one, which needs a claim signed by the key its operator commissioned. A
    /// field left out keeps what is stored.
    func register(_ input: Registration, owner: String) throws -> DeviceJSON {
        let deviceID = try input.device_id ?? "dev-\(StelltronKit.Hex.encode(try host.randomBytes(8)))"
        try StelltronKit.Identifiers.validate(deviceID)
        let type = input.device_type ?? "raspi"
        guard !type.isEmpty else { throw PluginError.badRequest("device_type must be 1–32 characters") }
        try StelltronKit.Identifiers.validateText(type, field: "device_type", maxLength: 32)
        let location = input.location ?? ""
        try StelltronKit.Identifiers.validateText(location, field: "location", maxLength: 200)
        let existing = try identity(deviceID)
        if let current = existing?.ownerID, current != owner { throw PluginError.conflict("device \(deviceID) belongs to another user") }

        var publicKey = existing?.publicKey
        var issued: DeviceKeyPair?
        if let existing, existing.ownerID == nil {
            // A known device without an owner ("it pinged first" is no proof): only the holder of
            // the key an operator commissioned can claim it.
            guard let key = existing.publicKey else {
                throw PluginError.forbidden("device \(deviceID) already reports to this host without a key: a micro-grid operator must commission it before it can be claimed")
            }
            if let given = input.public_key, try Self.publicKey(given) != key {
                throw PluginError.conflict("device \(deviceID) has another key on record")
            }
            try requireClaim(input.claim_signature, key: key, deviceID: deviceID, owner: owner)
        } else if input.issue_key == true {
            guard existing == nil else {
                throw PluginError.conflict("device \(deviceID) already exists: a key can be issued only for a new device id")
            }
            issued = DeviceKeyPair(seed: try host.randomBytes(32))
            publicKey = issued?.publicKeyHex
        } else if let given = input.public_key {
            let key = try Self.publicKey(given)
            try requireClaim(input.claim_signature, key: key, deviceID: deviceID, owner: owner)
            if existing?.commissionedMs != nil && key != existing?.publicKey {
                throw PluginError.conflict("device \(deviceID) is commissioned: only its operator can change its key")
            }
            publicKey = key
        }
        let now = Int64(host.now().timeIntervalSince1970 * 1000)
        try host.execute("""
            INSERT INTO iot_devices (device_id, owner_id, device_type, location, status, registered_at, public_key, claimed_ms)
            VALUES (?, ?, ?, ?, 'registered', ?, ?, ?)
            ON CONFLICT(device_id) DO UPDATE SET owner_id = excluded.owner_id,
                device_type = CASE WHEN ? = 1 THEN excluded.device_type ELSE iot_devices.device_type END,
                location = CASE WHEN ? = 1 THEN excluded.location ELSE iot_devices.location END,
                public_key = excluded.public_key, claimed_ms = COALESCE(iot_devices.claimed_ms, excluded.claimed_ms)
            """, [.text(deviceID), .text(owner), .text(type), .text(location), .text(Timestamp.iso8601(host.now())),
                  param(publicKey), .int(now), .int(input.device_type == nil ? 0 : 1), .int(input.location == nil ? 0 : 1)])
        guard var device = try list(owner: owner).first(where: { $0.device_id == deviceID }) else {
            throw PluginError.internalError("device \(deviceID) vanished after registration")
        }
        device.device_key = issued?.seedHex
        return device
    }

    private func requireClaim(_ signature: String?, key: String, deviceID: String, owner: String) throws {
        guard let signature else {
            throw PluginError.forbidden("claiming device \(deviceID) needs a claim_signature from its key")
        }
        guard let keyBytes = StelltronKit.Hex.decode(key), DeviceSignature.verifyClaim(publicKey: keyBytes, signature: signature, deviceID: deviceID, owner: owner) else {
            throw PluginError(.unauthorized, "claim_signature is not the device's signature of this claim")
        }
    }

    /// A public key as stored: 64 lower-case hex digits (32 bytes).
    static func publicKey(_ text: String) throws -> String {
        guard let bytes = StelltronKit.Hex.decode(text), bytes.count == 32 else {
            throw PluginError.badRequest("public_key must be 64 hex digits (an Ed25519 public key)")
        }
        return StelltronKit.Hex.encode(bytes)
    }

    func list(owner: String) throws -> [DeviceJSON] {
        try host.query("SELECT * FROM iot_devices WHERE owner_id = ? ORDER BY registered_at, device_id", [.text(owner)]).map(json)
    }

    func find(_ deviceID: String) throws -> DeviceJSON? {
        try host.query("SELECT * FROM iot_devices WHERE device_id = ?", [.text(deviceID)]).first.map(json)
    }

    private func json(_ row: [String: JSONValue]) -> DeviceJSON {
        let now = Int64(host.now().timeIntervalSince1970 * 1000)
        let seen = row["last_seen_ms"]?.int64Value ?? 0
        return DeviceJSON(
            device_id: row["device_id"]?.stringValue ?? "", owner_id: row["owner_id"]?.stringValue,
            device_type: row["device_type"]?.stringValue ?? "", location: row["location"]?.stringValue ?? "",
            status: row["status"]?.stringValue ?? "", battery_level: row["battery_level"]?.doubleValue,
            online: seen > 0 && now - seen <= 120_000,
            last_seen: seen > 0 ? Timestamp.iso8601(Date(timeIntervalSince1970: Double(seen) / 1000)) : nil,
            registered_at: row["registered_at"]?.stringValue ?? "", device_key: nil,
            signed_posts: row["public_key"]?.stringValue != nil, public_key: row["public_key"]?.stringValue,
            commissioned: row["commissioned_ms"]?.int64Value != nil, rated_kw: row["rated_kw"]?.doubleValue)
    }
}
