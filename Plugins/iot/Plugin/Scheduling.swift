import Foundation
import IoTCore
import StelltronPluginKit

/// `/iot/cmd`, manual transfers and the node view. Decisions come from whichever plugin fills the
/// `scheduler` slot (`scheduler.decide`), so an operator can swap the policy without a rebuild.
struct Scheduling {
    let host: PluginHost

    static let maxNodes = 5

    struct CommandRequest: Decodable {
        var device_id: String
        /// Absent (the field firmware polls with only `device_id`): the nodes its pings reported.
        var nodes: [NodeState]?
    }

    func command(_ body: Data) throws -> PluginResponse {
        var input = try JSONCoding.decodeBody(CommandRequest.self, from: body)
        try StelltronKit.Identifiers.validate(input.device_id)
        let nodes: [NodeState]
        if let given = input.nodes {
            guard !given.isEmpty, given.count <= Self.maxNodes else {
                throw PluginError.badRequest("nodes must hold 1 to \(Self.maxNodes) entries")
            }
            nodes = try Self.validated(given)
        } else {
            nodes = try reportedNodes(of: input.device_id)
        }
        input.nodes = nodes
        let now = Int64(host.now().timeIntervalSince1970 * 1000)
        try Devices.touch(host, input.device_id, at: now)
        let decided = try host.call("scheduler.decide", SchedulerRequest(device_id: input.device_id, nodes: nodes,
                                                                          manual_transfer: try activeTransfer(input.device_id)),
                                    as: SchedulerAnswer.self)
        // Answer in request order, one command per node, whatever the scheduler returned.
        let byNode = Dictionary(decided.commands.map { ($0.node_id, $0) }, uniquingKeysWith: { first, _ in first })
        let commands = try nodes.map { node -> Command in
            guard let command = byNode[node.uid], ["charge", "discharge", "idle"].contains(command.action) else {
                throw PluginError.internalError("the scheduler gave no valid command for node \(node.uid)")
            }
            return command
        }
        for (node, command) in zip(nodes, commands) {
            try host.execute("""
                INSERT INTO iot_nodes (device_id, uid, voltage, soc, state, last_seen_ms) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(device_id, uid) DO UPDATE SET voltage = excluded.voltage, soc = excluded.soc, state = excluded.state,
                    last_seen_ms = excluded.last_seen_ms
                """, [.text(input.device_id), .text(node.uid), .double(node.voltage), .double(node.soc), .text(node.state), .int(now)])
            try store(command, device: input.device_id, at: now)
            try host.execute("""
                INSERT INTO iot_schedule_log (device_id, node_id, action, reason, soc, voltage, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(input.device_id), .text(node.uid), .text(command.action), .text(command.reason), .double(node.soc),
                      .double(node.voltage), .int(now)])
        }
        struct Answer: Encodable { let commands: [Command]; let grid_summary: GridSummary }
        let answer = Answer(commands: commands, grid_summary: GridSummary(nodes: nodes, commands: commands))
        struct Event: Encodable { let device_id: String; let commands: [Command]; let grid_summary: GridSummary }
        try host.emit("schedule", Event(device_id: input.device_id, commands: commands, grid_summary: answer.grid_summary))
        return try .json(answer)
    }

    /// Checks the nodes a Pi sent: distinct ids, SoC 0–100, voltage within `TelemetryRules`, a
    /// known state (stored upper-case).
    static func validated(_ nodes: [NodeState]) throws -> [NodeState] {
        var seen = Set<String>()
        return try nodes.map { node in
            try StelltronKit.Identifiers.validate(node.uid, field: "uid")
            guard seen.insert(node.uid).inserted else { throw PluginError.badRequest("node \(node.uid) is listed twice") }
            guard TelemetryRules.isPercent(node.soc) else { throw PluginError.badRequest("soc of node \(node.uid) must be within 0–100") }
            guard TelemetryRules.isVoltage(node.voltage) else {
                throw PluginError.badRequest("voltage of node \(node.uid) must be \(TelemetryRules.voltageRule)")
            }
            var checked = node
            checked.state = try Telemetry.state(node.state, field: "state of node \(node.uid)")
            return checked
        }
    }

    /// The device's nodes as its pings last reported them (seen in the last 2 minutes, with a
    /// voltage and a SoC), for a poll that sends no nodes.
    private func reportedNodes(of deviceID: String) throws -> [NodeState] {
        let since = Int64(host.now().timeIntervalSince1970 * 1000) - 120_000
        return try host.query("""
            SELECT uid, voltage, soc, state FROM iot_nodes
            WHERE device_id = ? AND last_seen_ms >= ? AND voltage IS NOT NULL AND soc IS NOT NULL ORDER BY uid LIMIT ?
            """, [.text(deviceID), .int(since), .int(Int64(Telemetry.maxNodes))]).compactMap { row in
            guard let uid = row["uid"]?.stringValue, let voltage = row["voltage"]?.doubleValue, let soc = row["soc"]?.doubleValue else { return nil }
            return NodeState(uid: uid, voltage: voltage, soc: soc, state: row["state"]?.stringValue.flatMap(TelemetryRules.state) ?? "IDLE")
        }
    }

    struct TransferRequest: Decodable {
        var device_id: String
        var sender_node_uid: String?
        var receiver_node_uid: String?
        var sender_uid: String?
        var receiver_uid: String?
    }

    func startTransfer(_ body: Data) throws -> PluginResponse {
        let input = try JSONCoding.decodeBody(TransferRequest.self, from: body)
        try StelltronKit.Identifiers.validate(input.device_id)
        guard let sender = input.sender_node_uid ?? input.sender_uid, let receiver = input.receiver_node_uid ?? input.receiver_uid else {
            throw PluginError.badRequest("sender_node_uid and receiver_node_uid are required")
        }
        try StelltronKit.Identifiers.validate(sender, field: "sender_node_uid")
        try StelltronKit.Identifiers.validate(receiver, field: "receiver_node_uid")
        guard sender != receiver else { throw PluginError.badRequest("sender and receiver must be different nodes") }
        let now = Int64(host.now().timeIntervalSince1970 * 1000)
        try Devices.touch(host, input.device_id, at: now)
        try host.execute("""
            INSERT INTO iot_transfers (device_id, sender_uid, receiver_uid, started_ms) VALUES (?, ?, ?, ?)
            ON CONFLICT(device_id) DO UPDATE SET sender_uid = excluded.sender_uid, receiver_uid = excluded.receiver_uid,
                started_ms = excluded.started_ms
            """, [.text(input.device_id), .text(sender), .text(receiver), .int(now)])
        try host.execute("UPDATE iot_commands SET action = 'idle', reason = 'superseded by a manual transfer', updated_ms = ? WHERE device_id = ?",
                         [.int(now), .text(input.device_id)])
        try store(Command(node_id: sender, action: "discharge", reason: "manual transfer command (discharge)"), device: input.device_id, at: now)
        try store(Command(node_id: receiver, action: "charge", reason: "manual transfer command (charge)"), device: input.device_id, at: now)
        let event: [String: JSONValue] = ["device_id": .string(input.device_id), "sender_node_uid": .string(sender),
                                          "receiver_node_uid": .string(receiver), "status": "started"]
        try host.emit("transfer", event)
        return try .json(event)
    }

    func stopTransfer(_ body: Data) throws -> PluginResponse {
        struct Stop: Decodable { var device_id: String }
        let input = try JSONCoding.decodeBody(Stop.self, from: body)
        try StelltronKit.Identifiers.validate(input.device_id)
        let now = Int64(host.now().timeIntervalSince1970 * 1000)
        try host.execute("DELETE FROM iot_transfers WHERE device_id = ?", [.text(input.device_id)])
        try host.execute("UPDATE iot_commands SET action = 'idle', reason = 'transfer stopped', updated_ms = ? WHERE device_id = ?",
                         [.int(now), .text(input.device_id)])
        let nodes = try host.query("SELECT uid FROM iot_nodes WHERE device_id = ?", [.text(input.device_id)])
        for node in nodes {
            try store(Command(node_id: node["uid"]?.stringValue ?? "", action: "idle", reason: "transfer stopped"), device: input.device_id, at: now)
        }
        let event: [String: JSONValue] = ["device_id": .string(input.device_id), "status": "stopped", "idle_nodes": .int(Int64(nodes.count))]
        try host.emit("transfer", event)
        return try .json(event)
    }

    /// Node details of a device seen in the last 2 minutes, with their current action.
    func nodes(of deviceID: String) throws -> PluginResponse {
        try StelltronKit.Identifiers.validate(deviceID)
        let since = Int64(host.now().timeIntervalSince1970 * 1000) - 120_000
        let rows = try host.query("""
            SELECT n.uid, n.ip, n.voltage, n.soc, n.state, n.last_seen_ms, COALESCE(c.action, 'idle') AS action
            FROM iot_nodes n LEFT JOIN iot_commands c ON c.device_id = n.device_id AND c.node_id = n.uid
            WHERE n.device_id = ? AND n.last_seen_ms >= ? ORDER BY n.uid
            """, [.text(deviceID), .int(since)])
        return try .json(rows.map { row -> [String: JSONValue] in
            [
                "device_id": .string(deviceID), "uid": row["uid"] ?? .null, "ip": row["ip"] ?? .null, "voltage": row["voltage"] ?? .null,
                "soc": row["soc"] ?? .null, "state": row["state"] ?? .null, "action": row["action"] ?? "idle",
                "last_seen": .string(Timestamp.iso8601(Date(timeIntervalSince1970: Double(row["last_seen_ms"]?.int64Value ?? 0) / 1000))),
            ]
        })
    }

    func activeTransfer(_ deviceID: String) throws -> ManualTransfer? {
        guard let row = try host.query("SELECT sender_uid, receiver_uid FROM iot_transfers WHERE device_id = ?", [.text(deviceID)]).first,
              let sender = row["sender_uid"]?.stringValue, let receiver = row["receiver_uid"]?.stringValue else { return nil }
        return ManualTransfer(sender: sender, receiver: receiver)
    }

    private func store(_ command: Command, device: String, at now: Int64) throws {
        try host.execute("""
            INSERT INTO iot_commands (device_id, node_id, action, reason, updated_ms) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(device_id, node_id) DO UPDATE SET action = excluded.action, reason = excluded.reason, updated_ms = excluded.updated_ms
            """, [.text(device), .text(command.node_id), .text(command.action), .text(command.reason), .int(now)])
    }
}
