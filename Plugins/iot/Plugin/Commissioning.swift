import Foundation
import IoTCore
import StelltronPluginKit

/// The micro-grid operator's act that lets a device mint: it binds the device's public key (read
/// off the hardware) and its rated power. Reached through `POST /api/v1/iot/device/commission` by
/// an operator wallet of plugins.conf, or `stelltron call iot.commission` on the server.
struct Commissioning {
    let host: PluginHost
    let policy: TrustPolicy

    struct Order: Decodable {
        var device_id: String
        var public_key: String
        var rated_kw: Double
        /// The household the operator assigns the device to; otherwise the owner claims it.
        var owner_id: String?
        /// Who commissions, as recorded; only the console's `stelltron call` sets it (the HTTP
        /// route records the signed-in operator's wallet whatever the body says).
        var operator_id: String?
    }

    struct Decommission: Decodable {
        var device_id: String
        var operator_id: String?
    }

    /// Commissions (or re-commissions) a device. An owner who claimed it with another key loses
    /// it: that key was not the device's. Energy before this moment is never credited.
    func commission(_ order: Order, by operatorID: String) throws -> Devices.DeviceJSON {
        try StelltronKit.Identifiers.validate(order.device_id)
        let key = try Devices.publicKey(order.public_key)
        guard order.rated_kw.isFinite, order.rated_kw > 0, order.rated_kw <= policy.maxRatedKW else {
            throw PluginError.badRequest("rated_kw must be greater than 0 and at most \(policy.maxRatedKW) (max_rated_kw)")
        }
        if let owner = order.owner_id {
            struct User: Decodable { let id: String }
            _ = try host.call("host.users.get", ["id": owner], as: User.self)
        }
        let existing = try Devices(host: host, policy: policy).identity(order.device_id)
        var owner = existing?.ownerID
        if existing?.publicKey != nil && existing?.publicKey != key { owner = nil }
        if let assigned = order.owner_id { owner = assigned }
        let now = Int64(host.now().timeIntervalSince1970 * 1000)
        try host.execute("""
            INSERT INTO iot_devices (device_id, owner_id, status, registered_at, public_key, rated_kw, commissioned_ms, commissioned_by,
                                     claimed_ms, energy_until_ms)
            VALUES (?, ?, 'registered', ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(device_id) DO UPDATE SET owner_id = excluded.owner_id, public_key = excluded.public_key,
                rated_kw = excluded.rated_kw, commissioned_ms = excluded.commissioned_ms, commissioned_by = excluded.commissioned_by,
                claimed_ms = CASE WHEN excluded.owner_id IS NULL THEN NULL ELSE COALESCE(iot_devices.claimed_ms, excluded.claimed_ms) END,
                energy_until_ms = excluded.energy_until_ms
            """, [.text(order.device_id), param(owner), .text(Timestamp.iso8601(host.now())), .text(key), .double(order.rated_kw),
                  .int(now), .text(operatorID), owner == nil ? .null : .int(now), .int(now)])
        host.log(.info, "device \(order.device_id) commissioned by \(operatorID) at \(order.rated_kw) kW")
        guard let device = try Devices(host: host, policy: policy).find(order.device_id) else {
            throw PluginError.internalError("device \(order.device_id) vanished after commissioning")
        }
        try host.emit("device_commissioned", device)
        return device
    }

    /// Withdraws the commissioning: the device keeps reporting telemetry but mints nothing more.
    func decommission(_ input: Decommission, by operatorID: String) throws -> Devices.DeviceJSON {
        try StelltronKit.Identifiers.validate(input.device_id)
        let changed = try host.execute("""
            UPDATE iot_devices SET commissioned_ms = NULL, rated_kw = NULL, commissioned_by = ? WHERE device_id = ? AND commissioned_ms IS NOT NULL
            """, [.text(operatorID), .text(input.device_id)]).changes
        guard changed == 1, let device = try Devices(host: host, policy: policy).find(input.device_id) else {
            throw PluginError.notFound("device \(input.device_id) is not commissioned")
        }
        host.log(.info, "device \(input.device_id) decommissioned by \(operatorID)")
        return device
    }

    /// The caller of an operator route, or a 403 when it is not listed in plugins.conf.
    func requireOperator(_ request: PluginRequest) throws -> String {
        let caller = try request.requireUser()
        guard policy.operators.contains(caller.id) else {
            throw PluginError.forbidden("only a micro-grid operator listed in plugins.conf may commission devices")
        }
        return caller.id
    }
}
