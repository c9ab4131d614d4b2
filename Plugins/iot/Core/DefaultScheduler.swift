/// The default `scheduler` slot policy (behaviour §6): turns node states into
/// charge/discharge/idle commands, in request order.
///
/// 1. An active manual transfer wins for its two nodes.
/// 2. A node under 3.3 V or in state FAULT is idle.
/// 3. SoC pairing among the rest: if max − min SoC < 10 nothing changes (all idle); otherwise
///    pair the highest with the lowest while the gap is ≥ 15, the receiver is under 70 % and the
///    sender over 40 % — sender discharges, receiver charges. Everything else is idle.
public struct NodeState: Sendable, Equatable, Codable {
    public var uid: String
    public var voltage: Double
    public var soc: Double
    public var state: String

    public init(uid: String, voltage: Double, soc: Double, state: String) {
        self.uid = uid
        self.voltage = voltage
        self.soc = soc
        self.state = state
    }
}

public struct Command: Sendable, Equatable, Codable {
    public var node_id: String
    public var action: String
    public var reason: String

    public init(node_id: String, action: String, reason: String) {
        self.node_id = node_id
        self.action = action
        self.reason = reason
    }
}

public struct ManualTransfer: Sendable, Equatable, Codable {
    public var sender: String
    public var receiver: String

    public init(sender: String, receiver: String) {
        self.sender = sender
        self.receiver = receiver
    }
}

public enum DefaultScheduler {
    public static let lowVoltage = 3.3
    public static let deadband = 10.0
    public static let minimumGap = 15.0
    public static let receiverCeiling = 70.0
    public static let senderFloor = 40.0

    /// `nodePolicy`, when given (a foreign hook), decides each node that is neither in the manual
    /// transfer nor unsafe; it answers "charge", "discharge", "idle", or nil to leave the node to
    /// SoC pairing.
    public static func decide(_ nodes: [NodeState], manual: ManualTransfer? = nil,
                              nodePolicy: ((NodeState) -> String?)? = nil) -> [Command] {
        var decided: [String: Command] = [:]
        if let manual {
            for node in nodes where node.uid == manual.sender {
                decided[node.uid] = Command(node_id: node.uid, action: "discharge", reason: "manual transfer command (discharge)")
            }
            for node in nodes where node.uid == manual.receiver {
                decided[node.uid] = Command(node_id: node.uid, action: "charge", reason: "manual transfer command (charge)")
            }
        }
        var eligible: [NodeState] = []
        for node in nodes where decided[node.uid] == nil {
            if node.state.uppercased() == "FAULT" {
                decided[node.uid] = Command(node_id: node.uid, action: "idle", reason: "node reports FAULT")
            } else if node.voltage < lowVoltage {
                decided[node.uid] = Command(node_id: node.uid, action: "idle", reason: "voltage below \(lowVoltage) V")
            } else if let action = nodePolicy?(node) {
                decided[node.uid] = Command(node_id: node.uid, action: action, reason: "node policy hook: \(action)")
            } else {
                eligible.append(node)
            }
        }
        let sorted = eligible.sorted { $0.soc < $1.soc }
        if let lowest = sorted.first, let highest = sorted.last, highest.soc - lowest.soc >= deadband {
            var low = 0, high = sorted.count - 1
            while low < high {
                let receiver = sorted[low], sender = sorted[high]
                guard sender.soc - receiver.soc >= minimumGap, receiver.soc < receiverCeiling, sender.soc > senderFloor else { break }
                decided[sender.uid] = Command(node_id: sender.uid, action: "discharge",
                                              reason: "SoC pairing: \(format(sender.soc))% → \(receiver.uid) at \(format(receiver.soc))%")
                decided[receiver.uid] = Command(node_id: receiver.uid, action: "charge",
                                                reason: "SoC pairing: \(format(receiver.soc))% ← \(sender.uid) at \(format(sender.soc))%")
                low += 1
                high -= 1
            }
        }
        let holding = (sorted.last.map { $0.soc } ?? 0) - (sorted.first.map { $0.soc } ?? 0) < deadband
        return nodes.map { node in
            decided[node.uid] ?? Command(node_id: node.uid, action: "idle",
                                         reason: holding ? "SoC spread under \(Int(deadband))%: no change" : "balanced")
        }
    }

    private static func format(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}

/// The grid summary `/iot/cmd` answers with.
public struct GridSummary: Sendable, Equatable, Codable {
    public var avg_soc: Double
    public var discharging_nodes: Int
    public var charging_nodes: Int
    public var idle_nodes: Int

    public init(nodes: [NodeState], commands: [Command]) {
        let mean = nodes.isEmpty ? 0 : nodes.map(\.soc).reduce(0, +) / Double(nodes.count)
        avg_soc = (mean * 10).rounded() / 10
        discharging_nodes = commands.filter { $0.action == "discharge" }.count
        charging_nodes = commands.filter { $0.action == "charge" }.count
        idle_nodes = commands.filter { $0.action == "idle" }.count
    }
}
