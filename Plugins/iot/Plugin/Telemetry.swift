import Foundation
import IoTCore
import StelltronPluginKit

/// `/iot/ping`: heartbeats and node data from the Pi, stored before the reply. Missing optional
/// fields never overwrite stored values; wrong ones are refused with a 400.
struct Telemetry {
    let host: PluginHost

    /// Read by hand (see `JSONFields`): pings are the busiest write.
    struct Ping {
        struct Connected { var uid: String; var voltage: Double? }
        struct Detail {
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

        init(_ body: JSONValue) throws {
            let fields = try JSONFields(body)
            device_id = try fields.string("device_id")
            status = try fields.optionalString("status")
            voltage = try fields.optionalDouble("voltage")
            battery_level = try fields.optionalDouble("battery_level")
            state = try fields.optionalString("state")
            source = try fields.optionalString("source")
            timestamp = try fields.optionalString("timestamp")
            connected_nodes_count = try fields.optionalInt("connected_nodes_count")
            connected_nodes = try fields.optionalObjects("connected_nodes")?.map {
                Connected(uid: try $0.string("uid"), voltage: try $0.optionalDouble("voltage"))
            }
            nodes_detail = try fields.optionalObjects("nodes_detail")?.map {
                Detail(uid: try $0.string("uid"), ip: try $0.optionalString("ip"), voltage: try $0.optionalDouble("voltage"),
                       soc: try $0.optionalDouble("soc"), state: try $0.optionalString("state"))
            }
        }

        var isHeartbeat: Bool {
            status == "heartbeat" && voltage == nil && battery_level == nil && nodes_detail == nil && connected_nodes == nil
        }

        /// The `node_data` event: the known fields as validated, nothing the client added.
        var payload: JSONValue {
            var fields: [String: JSONValue] = ["device_id": .string(device_id)]
            func put(_ key: String, _ value: JSONValue?) { if let value { fields[key] = value } }
            put("status", status.map(JSONValue.string))
            put("voltage", voltage.map(JSONValue.double))
            put("battery_level", battery_level.map(JSONValue.double))
            put("state", state.map(JSONValue.string))
            put("source", source.map(JSONValue.string))
            put("timestamp", timestamp.map(JSONValue.string))
            put("connected_nodes_count", connected_nodes_count.map { .int(Int64($0)) })
            put("connected_nodes", connected_nodes.map { nodes in
                .array(nodes.map { node in .object(["uid": .string(node.uid), "voltage": node.voltage.map(JSONValue.double) ?? .null]) })
            })
            put("nodes_detail", nodes_detail.map { nodes in
                .array(nodes.map { node in
                    .object(["uid": .string(node.uid), "ip": node.ip.map(JSONValue.string) ?? .null, "voltage": node.voltage.map(JSONValue.double) ?? .null,
                             "soc": node.soc.map(JSONValue.double) ?? .null, "state": node.state.map(JSONValue.string) ?? .null])
                })
            })
            return .object(fields)
        }
    }

    static let maxNodes = 64

    /// `body` is the request body, parsed once by the caller.
    func ping(_ body: JSONValue) throws -> PluginResponse {
        var ping = try Ping(body)
        try StelltronKit.Identifiers.validate(ping.device_id)
        let now = Int64(host.now().timeIntervalSince1970 * 1000)
        if ping.isHeartbeat {
            try Devices.touch(host, ping.device_id, at: now)
            try host.emit("heartbeat", ["device_id": ping.device_id, "status": "heartbeat"])
            return try .json(["status": "received", "type": "heartbeat", "updated": true] as [String: JSONValue])
        }
        try validate(&ping)
        // Pings are the busiest write: the device row, every node and the quality row are one
        // statement each, whatever the number of nodes.
        try host.execute("""
            INSERT INTO iot_devices (device_id, status, last_seen_ms, registered_at, battery_level, voltage, state, source, reported_at)
            VALUES (?, 'online', ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(device_id) DO UPDATE SET status = 'online', last_seen_ms = excluded.last_seen_ms,
                battery_level = COALESCE(excluded.battery_level, iot_devices.battery_level), voltage = COALESCE(excluded.voltage, iot_devices.voltage),
                state = COALESCE(excluded.state, iot_devices.state), source = COALESCE(excluded.source, iot_devices.source),
                reported_at = COALESCE(excluded.reported_at, iot_devices.reported_at)
            """, [.text(ping.device_id), .int(now), .text(Timestamp.iso8601(host.now())), param(ping.battery_level),
                  param(ping.voltage), param(ping.state), param(ping.source), param(ping.timestamp)])
        let details = ping.nodes_detail ?? []
        let nodes = details.map { NodeReport(uid: $0.uid, ip: $0.ip, voltage: $0.voltage, soc: $0.soc, state: $0.state) }
            + (ping.connected_nodes ?? []).filter { node in !details.contains { $0.uid == node.uid } }
                .map { NodeReport(uid: $0.uid, ip: nil, voltage: $0.voltage, soc: nil, state: nil) }
        try upsertNodes(ping.device_id, nodes, at: now)
        try updateQuality(ping)
        let commands = try host.query("""
            SELECT node_id, action FROM iot_commands WHERE device_id = ? AND action <> 'idle' ORDER BY node_id
            """, [.text(ping.device_id)]).map { ["node_id": $0["node_id"] ?? .null, "action": $0["action"] ?? .null] as [String: JSONValue] }
        // The payload is what was validated and stored, encoded here: never the client's bytes.
        try host.emit("node_data", json: ping.payload.jsonData)
        return try .json(["status": .string("received"), "type": .string("node_data"), "updated": .bool(true),
                          "commands": .array(commands.map { .object($0) })] as [String: JSONValue])
    }

    /// Refuses anything outside `TelemetryRules` and upper-cases states, before anything is stored.
    private func validate(_ ping: inout Ping) throws {
        let volts = TelemetryRules.voltageRule
        if let level = ping.battery_level, !TelemetryRules.isPercent(level) { throw PluginError.badRequest("battery_level must be within 0–100") }
        if let voltage = ping.voltage, !TelemetryRules.isVoltage(voltage) { throw PluginError.badRequest("voltage must be \(volts)") }
        if let state = ping.state { ping.state = try Self.state(state, field: "state") }
        if let source = ping.source { try StelltronKit.Identifiers.validateText(source, field: "source", maxLength: 64) }
        if let timestamp = ping.timestamp { try StelltronKit.Identifiers.validateText(timestamp, field: "timestamp", maxLength: 64) }
        if let count = ping.connected_nodes_count, !(0...Self.maxNodes).contains(count) {
            throw PluginError.badRequest("connected_nodes_count must be within 0–\(Self.maxNodes)")
        }
        guard (ping.nodes_detail ?? []).count <= Self.maxNodes, (ping.connected_nodes ?? []).count <= Self.maxNodes else {
            throw PluginError.badRequest("at most \(Self.maxNodes) nodes per ping")
        }
        for index in (ping.nodes_detail ?? []).indices {
            let node = ping.nodes_detail![index]
            try StelltronKit.Identifiers.validate(node.uid, field: "uid")
            if let soc = node.soc, !TelemetryRules.isPercent(soc) { throw PluginError.badRequest("soc of node \(node.uid) must be within 0–100") }
            if let voltage = node.voltage, !TelemetryRules.isVoltage(voltage) { throw PluginError.badRequest("voltage of node \(node.uid) must be \(volts)") }
            if let ip = node.ip, !TelemetryRules.isAddress(ip) { throw PluginError.badRequest("ip of node \(node.uid) must be an IP address") }
            if let state = node.state { ping.nodes_detail![index].state = try Self.state(state, field: "state of node \(node.uid)") }
        }
        for node in ping.connected_nodes ?? [] {
            try StelltronKit.Identifiers.validate(node.uid, field: "uid")
            if let voltage = node.voltage, !TelemetryRules.isVoltage(voltage) { throw PluginError.badRequest("voltage of node \(node.uid) must be \(volts)") }
        }
    }

    static func state(_ text: String, field: String) throws -> String {
        guard let state = TelemetryRules.state(text) else {
            throw PluginError.badRequest("\(field) must be one of \(TelemetryRules.states.sorted().joined(separator: ", "))")
        }
        return state
    }

    private struct NodeReport {
        let uid: String
        let ip: String?
        let voltage: Double?
        let soc: Double?
        let state: String?
    }

    /// One multi-row upsert; a value the Pi left out keeps the stored one.
    private func upsertNodes(_ device: String, _ nodes: [NodeReport], at now: Int64) throws {
        guard !nodes.isEmpty else { return }
        let rows = Array(repeating: "(?, ?, ?, ?, ?, ?, ?)", count: nodes.count).joined(separator: ", ")
        try host.execute("""
            INSERT INTO iot_nodes (device_id, uid, ip, voltage, soc, state, last_seen_ms) VALUES \(rows)
            ON CONFLICT(device_id, uid) DO UPDATE SET ip = COALESCE(excluded.ip, iot_nodes.ip), voltage = COALESCE(excluded.voltage, iot_nodes.voltage),
                soc = COALESCE(excluded.soc, iot_nodes.soc), state = COALESCE(excluded.state, iot_nodes.state), last_seen_ms = excluded.last_seen_ms
            """, nodes.flatMap { [.text(device), .text($0.uid), param($0.ip), param($0.voltage), param($0.soc), param($0.state), .int(now)] })
    }

    private func updateQuality(_ ping: Ping) throws {
        var voltages = ping.voltage.map { [$0] } ?? []
        voltages += (ping.connected_nodes ?? []).compactMap(\.voltage)
        let stability = EnergyMath.voltageStability(voltages.filter { $0 > 0 })
        let ok: Int64 = (ping.state ?? "").uppercased() == "FAULT" ? 0 : 1
        try host.execute("""
            INSERT INTO iot_quality (device_id, ok_count, total_count, voltage_stability, battery_health) VALUES (?, ?, 1, ?, ?)
            ON CONFLICT(device_id) DO UPDATE SET ok_count = iot_quality.ok_count + excluded.ok_count, total_count = iot_quality.total_count + 1,
                voltage_stability = COALESCE(excluded.voltage_stability, iot_quality.voltage_stability),
                battery_health = COALESCE(excluded.battery_health, iot_quality.battery_health)
            """, [.text(ping.device_id), .int(ok), param(stability), param(ping.battery_level)])
    }
}

func param(_ value: Double?) -> SQLParameter { value.map { .double($0) } ?? .null }
func param(_ value: String?) -> SQLParameter { value.map { .text($0) } ?? .null }
