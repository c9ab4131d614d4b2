import Foundation
import IoTCore
import StelltronPluginKit

/// `/iot/ping`: heartbeats and node data from the Pi, stored before the reply. Missing optional
/// fields never overwrite stored values; wrong ones are refused with a 400.
struct Telemetry {
    let host: PluginHost

    struct Ping: Decodable {
        struct Connected: Decodable { var uid: String; var voltage: Double? }
        struct Detail: Decodable {
            var uid: String
            var ip: String?
            var voltage: Double?
            var soc: Double?
            var state: String?
        }
        var device_id: String
        var status: String?
        var voltage: Double?
        var battery_level: Double?
        var state: String?
        var source: String?
        var timestamp: String?
        var connected_nodes_count: Int?
        var connected_nodes: [Connected]?
        var nodes_detail: [Detail]?

        var isHeartbeat: Bool {
            status == "heartbeat" && voltage == nil && battery_level == nil && nodes_detail == nil && connected_nodes == nil
        }
    }

    static let maxNodes = 64

    func ping(_ body: Data) throws -> PluginResponse {
        let ping = try JSONCoding.decodeBody(Ping.self, from: body)
        try Identifiers.validate(ping.device_id)
        let now = Int64(host.now().timeIntervalSince1970 * 1000)
        try Devices(host: host).touch(ping.device_id, at: now)
        if ping.isHeartbeat {
            try host.emit("heartbeat", ["device_id": ping.device_id, "status": "heartbeat"])
            return try .json(["status": "received", "type": "heartbeat", "updated": true] as [String: JSONValue])
        }
        try validate(ping)
        try host.execute("""
            UPDATE iot_devices SET status = 'online',
                battery_level = COALESCE(?, battery_level), voltage = COALESCE(?, voltage), state = COALESCE(?, state),
                source = COALESCE(?, source), reported_at = COALESCE(?, reported_at)
            WHERE device_id = ?
            """, [param(ping.battery_level), param(ping.voltage), param(ping.state), param(ping.source), param(ping.timestamp), .text(ping.device_id)])
        for node in ping.nodes_detail ?? [] {
            try upsertNode(ping.device_id, uid: node.uid, ip: node.ip, voltage: node.voltage, soc: node.soc, state: node.state, at: now)
        }
        for node in ping.connected_nodes ?? [] where !(ping.nodes_detail ?? []).contains(where: { $0.uid == node.uid }) {
            try upsertNode(ping.device_id, uid: node.uid, ip: nil, voltage: node.voltage, soc: nil, state: nil, at: now)
        }
        try updateQuality(ping)
        let commands = try host.query("""
            SELECT node_id, action FROM iot_commands WHERE device_id = ? AND action <> 'idle' ORDER BY node_id
            """, [.text(ping.device_id)]).map { ["node_id": $0["node_id"] ?? .null, "action": $0["action"] ?? .null] as [String: JSONValue] }
        var payload = (try? JSONCoding.decode(JSONValue.self, from: body)) ?? .object([:])
        if case .object(var object) = payload {
            object["device_id"] = .string(ping.device_id)
            payload = .object(object)
        }
        try host.emit("node_data", payload)
        return try .json(["status": .string("received"), "type": .string("node_data"), "updated": .bool(true),
                          "commands": .array(commands.map { .object($0) })] as [String: JSONValue])
    }

    private func validate(_ ping: Ping) throws {
        if let level = ping.battery_level, !(0...100).contains(level) { throw PluginError.badRequest("battery_level must be within 0–100") }
        if let voltage = ping.voltage, !(voltage.isFinite && voltage >= 0 && voltage < 100) { throw PluginError.badRequest("voltage must be a number from 0 to 100") }
        let details = ping.nodes_detail ?? []
        guard details.count <= Self.maxNodes, (ping.connected_nodes ?? []).count <= Self.maxNodes else {
            throw PluginError.badRequest("at most \(Self.maxNodes) nodes per ping")
        }
        for node in details {
            try Identifiers.validate(node.uid, field: "uid")
            if let soc = node.soc, !(0...100).contains(soc) { throw PluginError.badRequest("soc of node \(node.uid) must be within 0–100") }
            if let voltage = node.voltage, !(voltage.isFinite && voltage >= 0 && voltage < 100) {
                throw PluginError.badRequest("voltage of node \(node.uid) must be a number from 0 to 100")
            }
        }
        for node in ping.connected_nodes ?? [] { try Identifiers.validate(node.uid, field: "uid") }
    }

    private func upsertNode(_ device: String, uid: String, ip: String?, voltage: Double?, soc: Double?, state: String?, at now: Int64) throws {
        try host.execute("""
            INSERT INTO iot_nodes (device_id, uid, ip, voltage, soc, state, last_seen_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(device_id, uid) DO UPDATE SET ip = COALESCE(excluded.ip, ip), voltage = COALESCE(excluded.voltage, voltage),
                soc = COALESCE(excluded.soc, soc), state = COALESCE(excluded.state, state), last_seen_ms = excluded.last_seen_ms
            """, [.text(device), .text(uid), param(ip), param(voltage), param(soc), param(state), .int(now)])
    }

    private func updateQuality(_ ping: Ping) throws {
        var voltages = ping.voltage.map { [$0] } ?? []
        voltages += (ping.connected_nodes ?? []).compactMap(\.voltage)
        let stability = EnergyMath.voltageStability(voltages.filter { $0 > 0 })
        let ok: Int64 = (ping.state ?? "").uppercased() == "FAULT" ? 0 : 1
        try host.execute("""
            INSERT INTO iot_quality (device_id, ok_count, total_count, voltage_stability, battery_health) VALUES (?, ?, 1, ?, ?)
            ON CONFLICT(device_id) DO UPDATE SET ok_count = ok_count + excluded.ok_count, total_count = total_count + 1,
                voltage_stability = COALESCE(excluded.voltage_stability, voltage_stability),
                battery_health = COALESCE(excluded.battery_health, battery_health)
            """, [.text(ping.device_id), .int(ok), param(stability), param(ping.battery_level)])
    }
}

func param(_ value: Double?) -> SQLParameter { value.map { .double($0) } ?? .null }
func param(_ value: String?) -> SQLParameter { value.map { .text($0) } ?? .null }
