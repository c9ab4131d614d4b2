import Foundation
import StelltronPluginKit

/// A scheduler with fixed thresholds instead of SoC pairing:
/// - a node under 3.3 V is idle;
/// - SoC under 40 % charges, over 70 % discharges, anything between is idle;
/// - never more nodes charging than discharging: the fullest extra chargers wait (idle);
/// - an active manual transfer still wins for its two nodes.
final class ThresholdScheduler: StelltronPlugin {
    static let manifest = PluginManifest(
        id: "threshold",
        version: "1.0.0",
        description: "threshold scheduler: < 40 % charge, > 70 % discharge",
        services: [Service("scheduler.decide", writes: false, summary: "node states → commands by thresholds")],
        slots: [Slot("scheduler", revision: 1)]
    )

    struct Node: Codable { var uid: String; var voltage: Double; var soc: Double; var state: String }
    struct Transfer: Codable { var sender: String; var receiver: String }
    struct Request: Codable { var device_id: String; var nodes: [Node]; var manual_transfer: Transfer? }
    struct Command: Codable { var node_id: String; var action: String; var reason: String }
    struct Answer: Codable { var commands: [Command] }

    init(config: JSONValue, host: PluginHost) throws {}

    func handle(_ request: PluginRequest, host: PluginHost) throws -> PluginResponse {
        throw PluginError.notFound("the threshold scheduler serves no routes")
    }

    func callService(_ name: String, request: Data, host: PluginHost) throws -> Data {
        guard name == "scheduler.decide" else { throw PluginError(.unknownService, "no service \(name)") }
        let input = try JSONCoding.decodeBody(Request.self, from: request)
        return try JSONCoding.encode(Answer(commands: Self.decide(input.nodes, manual: input.manual_transfer)))
    }

    static func decide(_ nodes: [Node], manual: Transfer?) -> [Command] {
        var commands = nodes.map { node -> Command in
            if let manual, node.uid == manual.sender { return Command(node_id: node.uid, action: "discharge", reason: "manual transfer command (discharge)") }
            if let manual, node.uid == manual.receiver { return Command(node_id: node.uid, action: "charge", reason: "manual transfer command (charge)") }
            if node.voltage < 3.3 { return Command(node_id: node.uid, action: "idle", reason: "threshold: voltage below 3.3 V") }
            if node.soc < 40 { return Command(node_id: node.uid, action: "charge", reason: "threshold: SoC under 40%") }
            if node.soc > 70 { return Command(node_id: node.uid, action: "discharge", reason: "threshold: SoC over 70%") }
            return Command(node_id: node.uid, action: "idle", reason: "threshold: SoC within 40–70%")
        }
        let discharging = commands.filter { $0.action == "discharge" }.count
        // Fullest chargers wait first, so the emptiest nodes are served.
        let chargers = nodes.indices.filter { commands[$0].action == "charge" && !(manual?.receiver == nodes[$0].uid) }
            .sorted { nodes[$0].soc > nodes[$1].soc }
        var charging = commands.filter { $0.action == "charge" }.count
        for index in chargers where charging > discharging {
            commands[index] = Command(node_id: nodes[index].uid, action: "idle", reason: "threshold: waiting for a discharging node")
            charging -= 1
        }
        return commands
    }
}

@_cdecl("stl_plugin_entry")
public func stl_plugin_entry(_ hostABIMajor: UInt32, _ hostABIMinor: UInt32) -> UnsafeRawPointer? {
    exportPlugin(ThresholdScheduler.self, hostABIMajor: hostABIMajor)
}
