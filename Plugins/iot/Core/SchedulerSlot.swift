import StelltronPluginKit

/// What the `scheduler` slot's `scheduler.decide` receives: a device's nodes and the manual
/// transfer it runs, if any.
public struct SchedulerRequest: Sendable, Equatable, Codable {
    public var device_id: String
    public var nodes: [NodeState]
    public var manual_transfer: ManualTransfer?

    public init(device_id: String, nodes: [NodeState], manual_transfer: ManualTransfer?) {
        self.device_id = device_id
        self.nodes = nodes
        self.manual_transfer = manual_transfer
    }
}

/// What `scheduler.decide` answers: one command per node.
public struct SchedulerAnswer: Sendable, Equatable, Codable {
    public var commands: [Command]

    public init(commands: [Command]) {
        self.commands = commands
    }
}

// The slot's types read and write their own JSON (`JSONRecord`): every `/iot/cmd` sends them
// through `scheduler.decide` and back. Members are written in ascending key order; the kit's
// record tests check both directions against `Codable`.

extension SchedulerRequest: JSONRecord {
    public init(json: inout JSONRecordReader) throws {
        var deviceID: String?, nodes: [NodeState]?, manualTransfer: ManualTransfer?
        try json.object { key, json in
            switch key {
            case "device_id": deviceID = try json.string()
            case "nodes": nodes = try json.records(NodeState.self)
            case "manual_transfer": manualTransfer = try json.optional { try $0.record(ManualTransfer.self) }
            default: try json.skip()
            }
        }
        self.init(device_id: try json.required(deviceID), nodes: try json.required(nodes), manual_transfer: manualTransfer)
    }

    public func write(json: inout JSONRecordWriter) {
        json.object { json in
            json.member("device_id", device_id)
            json.member("manual_transfer", manual_transfer)
            json.member("nodes", nodes)
        }
    }
}

extension SchedulerAnswer: JSONRecord {
    public init(json: inout JSONRecordReader) throws {
        var commands: [Command]?
        try json.object { key, json in
            switch key {
            case "commands": commands = try json.records(Command.self)
            default: try json.skip()
            }
        }
        self.init(commands: try json.required(commands))
    }

    public func write(json: inout JSONRecordWriter) {
        json.object { json in
            json.member("commands", commands)
        }
    }
}

extension NodeState: JSONRecord {
    public init(json: inout JSONRecordReader) throws {
        var uid: String?, voltage: Double?, soc: Double?, state: String?
        try json.object { key, json in
            switch key {
            case "uid": uid = try json.string()
            case "voltage": voltage = try json.double()
            case "soc": soc = try json.double()
            case "state": state = try json.string()
            default: try json.skip()
            }
        }
        self.init(uid: try json.required(uid), voltage: try json.required(voltage), soc: try json.required(soc), state: try json.required(state))
    }

    public func write(json: inout JSONRecordWriter) {
        json.object { json in
            json.member("soc", soc)
            json.member("state", state)
            json.member("uid", uid)
            json.member("voltage", voltage)
        }
    }
}

extension Command: JSONRecord {
    public init(json: inout JSONRecordReader) throws {
        var nodeID: String?, action: String?, reason: String?
        try json.object { key, json in
            switch key {
            case "node_id": nodeID = try json.string()
            case "action": action = try json.string()
            case "reason": reason = try json.string()
            default: try json.skip()
            }
        }
        self.init(node_id: try json.required(nodeID), action: try json.required(action), reason: try json.required(reason))
    }

    public func write(json: inout JSONRecordWriter) {
        json.object { json in
            json.member("action", action)
            json.member("node_id", node_id)
            json.member("reason", reason)
        }
    }
}

extension ManualTransfer: JSONRecord {
    public init(json: inout JSONRecordReader) throws {
        var sender: String?, receiver: String?
        try json.object { key, json in
            switch key {
            case "sender": sender = try json.string()
            case "receiver": receiver = try json.string()
            default: try json.skip()
            }
        }
        self.init(sender: try json.required(sender), receiver: try json.required(receiver))
    }

    public func write(json: inout JSONRecordWriter) {
        json.object { json in
            json.member("receiver", receiver)
            json.member("sender", sender)
        }
    }
}
