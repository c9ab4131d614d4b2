import Foundation
import IoTCore
import StelltronPluginKit

/// Devices: auto-registered by their first ping (no owner), claimed by a user through
/// `/api/v1/iot/device/register`. A device must have an owner before its energy reports mint.
struct Devices {
    let host: PluginHost

    struct Registration: Decodable {
        var device_type: String?
        var location: String?
        var device_id: String?
        /// Issue a key the device must sign its posts with (returned once, in this answer).
        var issue_key: Bool?
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
        /// Only in the registration answer that issued it.
        var device_key: String?
        let signed_posts: Bool
    }

    /// Marks the device seen, creating it without an owner on its first ping.
    func touch(_ deviceID: String, at now: Int64) throws {
        try host.execute("""
            INSERT INTO iot_devices (device_id, status, last_seen_ms, registered_at) VALUES (?, 'online', ?, ?)
            ON CONFLICT(device_id) DO UPDATE SET status = 'online', last_seen_ms = excluded.last_seen_ms
            """, [.text(deviceID), .int(now), .text(host.now().formatted(.iso8601))])
    }

    func register(_ input: Registration, owner: String) throws -> DeviceJSON {
        let deviceID = try input.device_id ?? "dev-\(Hex.encode(try host.randomBytes(8)))"
        try Identifiers.validate(deviceID)
        let type = input.device_type ?? "raspi"
        guard (1...32).contains(type.utf8.count) else { throw PluginError.badRequest("device_type must be 1–32 characters") }
        let location = input.location ?? ""
        guard location.utf8.count <= 200 else { throw PluginError.badRequest("location must be at most 200 characters") }
        if let existing = try host.query("SELECT owner_id FROM iot_devices WHERE device_id = ?", [.text(deviceID)]).first,
           let current = existing["owner_id"]?.stringValue, current != owner {
            throw PluginError.conflict("device \(deviceID) belongs to another user")
        }
        try host.execute("""
            INSERT INTO iot_devices (device_id, owner_id, device_type, location, status, registered_at) VALUES (?, ?, ?, ?, 'registered', ?)
            ON CONFLICT(device_id) DO UPDATE SET owner_id = excluded.owner_id, device_type = excluded.device_type, location = excluded.location
            """, [.text(deviceID), .text(owner), .text(type), .text(location), .text(host.now().formatted(.iso8601))])
        var key: String?
        if input.issue_key == true {
            let issued = Hex.encode(try host.randomBytes(32))
            try host.execute("UPDATE iot_devices SET device_key = ? WHERE device_id = ?", [.text(issued), .text(deviceID)])
            key = issued
        }
        guard var device = try list(owner: owner).first(where: { $0.device_id == deviceID }) else {
            throw PluginError.internalError("device \(deviceID) vanished after registration")
        }
        device.device_key = key
        return device
    }

    func list(owner: String) throws -> [DeviceJSON] {
        let now = Int64(host.now().timeIntervalSince1970 * 1000)
        return try host.query("SELECT * FROM iot_devices WHERE owner_id = ? ORDER BY registered_at, device_id", [.text(owner)]).map { row in
            let seen = row["last_seen_ms"]?.int64Value ?? 0
            return DeviceJSON(
                device_id: row["device_id"]?.stringValue ?? "", owner_id: row["owner_id"]?.stringValue,
                device_type: row["device_type"]?.stringValue ?? "", location: row["location"]?.stringValue ?? "",
                status: row["status"]?.stringValue ?? "", battery_level: row["battery_level"]?.doubleValue,
                online: seen > 0 && now - seen <= 120_000,
                last_seen: seen > 0 ? Date(timeIntervalSince1970: Double(seen) / 1000).formatted(.iso8601) : nil,
                registered_at: row["registered_at"]?.stringValue ?? "", device_key: nil,
                signed_posts: row["device_key"]?.stringValue != nil)
        }
    }

    /// Refuses a post from a device that holds a key unless it carries a valid signature.
    /// Devices without a key keep working unauthenticated.
    func authenticate(_ deviceID: String, request: PluginRequest) throws {
        guard let key = try host.query("SELECT device_key FROM iot_devices WHERE device_id = ?", [.text(deviceID)]).first?["device_key"]?.stringValue else {
            return
        }
        do {
            try DeviceSignature.verify(key: key, timestamp: request.headers["x-device-timestamp"], signature: request.headers["x-device-signature"],
                                       body: request.body, now: Int64(host.now().timeIntervalSince1970))
        } catch DeviceSignature.Failure.missing {
            throw PluginError(.unauthorized, "device \(deviceID) must sign its posts (X-Device-Timestamp, X-Device-Signature)")
        } catch DeviceSignature.Failure.stale {
            throw PluginError(.unauthorized, "X-Device-Timestamp is more than \(DeviceSignature.allowedSkew) s from the host clock")
        } catch {
            throw PluginError(.unauthorized, "invalid device signature")
        }
    }

    func owner(of deviceID: String) throws -> String? {
        try host.query("SELECT owner_id FROM iot_devices WHERE device_id = ?", [.text(deviceID)]).first?["owner_id"]?.stringValue
    }
}
