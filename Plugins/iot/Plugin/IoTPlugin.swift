import Foundation
import IoTCore
import StelltronPluginKit

/// The IoT plugin: the Raspberry Pi's endpoints (telemetry, scheduling, manual transfers, energy
/// reports that mint), device registration, and the default `scheduler` slot.
final class IoTPlugin: StelltronPlugin {
    static let manifest = PluginManifest(
        id: "iot",
        version: "1.0.0",
        description: "Raspberry Pi telemetry, scheduling and energy reports",
        routes: [
            Route(.post, "/iot/ping", access: .public, mode: .write, summary: "Heartbeat or node telemetry from a Pi",
                  requestSchema: #"{"type":"object","properties":{"device_id":{"type":"string","pattern":"^[A-Za-z0-9._:-]{1,64}$"},"status":{"type":"string","enum":["heartbeat","online"]},"voltage":{"type":"number","minimum":0,"maximum":1000},"battery_level":{"type":"number","minimum":0,"maximum":100},"state":{"type":"string"},"nodes_detail":{"type":"array","maxItems":64,"items":{"type":"object","properties":{"uid":{"type":"string","pattern":"^[A-Za-z0-9._:-]{1,64}$"},"voltage":{"type":"number","minimum":0,"maximum":1000},"soc":{"type":"number","minimum":0,"maximum":100},"state":{"enum":["IDLE","CHARGING","DISCHARGING","FAULT",null]}},"required":["uid"]}}},"required":["device_id"]}"#),
            Route(.post, "/iot/cmd", access: .public, mode: .write, summary: "Node states in, scheduling commands out",
                  requestSchema: #"{"type":"object","properties":{"device_id":{"type":"string","pattern":"^[A-Za-z0-9._:-]{1,64}$"},"nodes":{"type":"array","minItems":1,"maxItems":5,"items":{"type":"object","properties":{"uid":{"type":"string","pattern":"^[A-Za-z0-9._:-]{1,64}$"},"voltage":{"type":"number","minimum":0,"maximum":1000},"soc":{"type":"number","minimum":0,"maximum":100},"state":{"type":"string","enum":["IDLE","CHARGING","DISCHARGING","FAULT"]}},"required":["uid","voltage","soc","state"]}}},"required":["device_id"]}"#),
            Route(.get, "/iot/nodes/:device_id", access: .public, mode: .read, summary: "Nodes seen in the last 2 minutes"),
            Route(.post, "/iot/transfer", access: .public, mode: .write, summary: "Start a manual transfer between two nodes",
                  requestSchema: #"{"type":"object","properties":{"device_id":{"type":"string","pattern":"^[A-Za-z0-9._:-]{1,64}$"},"sender_node_uid":{"type":"string","pattern":"^[A-Za-z0-9._:-]{1,64}$"},"receiver_node_uid":{"type":"string","pattern":"^[A-Za-z0-9._:-]{1,64}$"}},"required":["device_id","sender_node_uid","receiver_node_uid"]}"#),
            Route(.post, "/iot/transfer/stop", access: .public, mode: .write, summary: "Stop the transfer, all nodes idle",
                  requestSchema: #"{"type":"object","properties":{"device_id":{"type":"string","pattern":"^[A-Za-z0-9._:-]{1,64}$"}},"required":["device_id"]}"#),
            Route(.post, "/iot/energy/report", access: .public, mode: .write, summary: "A delivered transfer, to mint LT (signed by a commissioned device)",
                  requestSchema: IoTPlugin.reportSchema),
            // The field firmware (v3) posts its reports here: the same route under the API prefix.
            Route(.post, "/api/v1/iot/energy/report", access: .public, mode: .write, summary: "Alias of /iot/energy/report (field firmware v3)",
                  requestSchema: IoTPlugin.reportSchema),
            Route(.get, "/api/v1/iot/devices", access: .protected, mode: .read, summary: "The caller's devices"),
            Route(.post, "/api/v1/iot/device/register", access: .protected, mode: .write, summary: "Register or claim a device",
                  requestSchema: #"{"type":"object","properties":{"device_id":{"type":"string","pattern":"^[A-Za-z0-9._:-]{1,64}$"},"device_type":{"type":"string","minLength":1,"maxLength":32},"location":{"type":"string","maxLength":200},"issue_key":{"type":"boolean"},"public_key":{"type":"string","pattern":"^[0-9a-fA-F]{64}$"},"claim_signature":{"type":"string","pattern":"^[0-9a-fA-F]{128}$"}},"required":[]}"#),
            Route(.post, "/api/v1/iot/device/commission", access: .protected, mode: .write, summary: "Operators: commission a device (public key, rated power)",
                  requestSchema: #"{"type":"object","properties":{"device_id":{"type":"string","pattern":"^[A-Za-z0-9._:-]{1,64}$"},"public_key":{"type":"string","pattern":"^[0-9a-fA-F]{64}$"},"rated_kw":{"type":"number","exclusiveMinimum":0},"owner_id":{"type":"string"}},"required":["device_id","public_key","rated_kw"]}"#),
            Route(.post, "/api/v1/iot/device/decommission", access: .protected, mode: .write, summary: "Operators: withdraw a device's commissioning",
                  requestSchema: #"{"type":"object","properties":{"device_id":{"type":"string","pattern":"^[A-Za-z0-9._:-]{1,64}$"}},"required":["device_id"]}"#),
        ],
        services: [
            Service("scheduler.decide", writes: false, summary: "node states → commands (the default policy)"),
            Service("iot.telemetry_summary", writes: false, summary: "mean SoC of the last 10 minutes and device quality"),
            Service("iot.stats", writes: false, summary: "device counts"),
            Service("iot.device", writes: false, summary: "a device's owner and standing under the trust policy"),
            Service("iot.claim", writes: true, summary: "claim a device for {owner} with its {claim_signature}"),
            Service("iot.authenticate", writes: true, summary: "accept a device's signed post (spends its nonce) or refuse it"),
            Service("iot.commission", writes: true, summary: "commission a device: {device_id, public_key, rated_kw, owner_id?, operator?}"),
            Service("iot.decommission", writes: true, summary: "withdraw a device's commissioning: {device_id, operator?}"),
        ],
        slots: [Slot("scheduler")],
        migrations: Schema.migrations,
        hookPoints: [nodeHookPoint],
        // Energy reports quote through the pricing slot; /iot/cmd decides through the scheduler slot.
        slotUses: [Slot("pricing", revision: 2), Slot("scheduler", revision: 1)]
    )

    static let reportSchema = #"{"type":"object","properties":{"device_id":{"type":"string","pattern":"^[A-Za-z0-9._:-]{1,64}$"},"kwh_transferred":{"type":"number","minimum":0.001,"maximum":10},"duration_seconds":{"type":"number","exclusiveMinimum":0,"maximum":86400},"avg_voltage":{"type":"number","minimum":0,"maximum":1000},"report_id":{"type":"string","pattern":"^[A-Za-z0-9._:-]{1,64}$"}},"required":["device_id","kwh_transferred"]}"#

    let policy: TrustPolicy
    let nodeHook: NodeHook?

    init(config: JSONValue, host: PluginHost) throws {
        policy = try TrustPolicy(config: config)
        nodeHook = try host.hookFunction("scheduler.node", as: NodeHook.self)
        host.log(.info, "trust = \(policy.mode.rawValue), \(policy.operators.count) operator(s), max_rated_kw = \(policy.maxRatedKW)")
    }

    func handle(_ request: PluginRequest, host: PluginHost) throws -> PluginResponse {
        switch request.route {
        case "/iot/ping": return try Telemetry(host: host).ping(try JSONCoding.parseBody(request.body))
        case "/iot/cmd": return try Scheduling(host: host).command(request.body)
        case "/iot/nodes/:device_id": return try Scheduling(host: host).nodes(of: request.pathParameters["device_id"] ?? "")
        case "/iot/transfer": return try Scheduling(host: host).startTransfer(request.body)
        case "/iot/transfer/stop": return try Scheduling(host: host).stopTransfer(request.body)
        case "/iot/energy/report", "/api/v1/iot/energy/report": return try EnergyReports(host: host, policy: policy).report(request)
        case "/api/v1/iot/devices":
            return try .json(try Devices(host: host, policy: policy).list(owner: try request.requireUser().id))
        case "/api/v1/iot/device/register":
            let user = try request.requireUser()
            let device = try Devices(host: host, policy: policy).register(try request.decode(Devices.Registration.self), owner: user.id)
            return try .json(device, status: 201)
        case "/api/v1/iot/device/commission":
            let commissioning = Commissioning(host: host, policy: policy)
            let operatorID = try commissioning.requireOperator(request)
            return try .json(try commissioning.commission(try request.decode(Commissioning.Order.self), by: operatorID))
        case "/api/v1/iot/device/decommission":
            let commissioning = Commissioning(host: host, policy: policy)
            let operatorID = try commissioning.requireOperator(request)
            return try .json(try commissioning.decommission(try request.decode(Commissioning.Decommission.self), by: operatorID))
        default:
            throw PluginError.notFound("no route \(request.route)")
        }
    }

    /// `scheduler.node`: `int32(double voltage, double soc)` answering 0 idle, 1 charge,
    /// 2 discharge, −1 no opinion — a node policy an operator may bind instead of the default rule.
    typealias NodeHook = @convention(c) (Double, Double) -> Int32

    static let nodeHookPoint = PluginManifest.HookPoint(
        "scheduler.node", signature: "int32(double,double)",
        summary: "the default scheduler's decision for one node from (voltage, SoC %): 0 idle, 1 charge, 2 discharge, −1 no opinion")

    /// The bound node hook as a node policy, or nil for the default rule.
    var nodePolicy: ((NodeState) -> String?)? {
        guard let nodeHook else { return nil }
        return { node in
            switch nodeHook(node.voltage, node.soc) {
            case 0: return "idle"
            case 1: return "charge"
            case 2: return "discharge"
            default: return nil
            }
        }
    }

    /// Both means of `iot.telemetry_summary` in one statement (one storage call per price quote,
    /// not two), built once: every price read asks. Quality over devices with both measures; AVG
    /// of none is NULL, as an empty mean is nil.
    static let telemetrySummarySQL = """
        SELECT (SELECT AVG(soc) FROM iot_nodes WHERE soc IS NOT NULL AND last_seen_ms >= ?) AS mean_soc,
               (SELECT AVG(\(EnergyMath.qualityScoreSQL)) FROM iot_quality
                WHERE voltage_stability IS NOT NULL AND battery_health IS NOT NULL) AS quality
        """

    func callService(_ name: String, request: Data, host: PluginHost) throws -> Data {
        switch name {
        case "scheduler.decide":
            let decision = try JSONCoding.decodeBody(SchedulerRequest.self, from: request)
            let commands = DefaultScheduler.decide(decision.nodes, manual: decision.manual_transfer, nodePolicy: nodePolicy)
            return try JSONCoding.encode(SchedulerAnswer(commands: commands))
        case "iot.telemetry_summary":
            let since = Int64(host.now().timeIntervalSince1970 * 1000) - 600_000
            let means = try host.query(Self.telemetrySummarySQL, [.int(since)]).first
            return try JSONCoding.encode(TelemetrySummary(mean_soc: means?["mean_soc"]?.doubleValue, quality: means?["quality"]?.doubleValue))
        case "iot.stats":
            let since = Int64(host.now().timeIntervalSince1970 * 1000) - 120_000
            let online = try host.query("SELECT COUNT(*) AS n FROM iot_devices WHERE last_seen_ms >= ?", [.int(since)]).first?["n"]?.int64Value ?? 0
            let total = try host.query("SELECT COUNT(*) AS n FROM iot_devices").first?["n"]?.int64Value ?? 0
            return try JSONCoding.encode(["devices_online": online, "total_devices": total])
        case "iot.device":
            struct Query: Decodable { var device_id: String }
            let deviceID = try JSONCoding.decodeBody(Query.self, from: request).device_id
            try StelltronKit.Identifiers.validate(deviceID)
            guard let device = try Devices(host: host, policy: policy).identity(deviceID) else {
                throw PluginError.notFound("device \(deviceID) is not known to this host")
            }
            let standing = policy.standing(of: device.record)
            struct Answer: Encodable { let device_id: String; let owner_id: String?; let commissioned: Bool; let may_mint: Bool; let refusal: String? }
            return try JSONCoding.encode(Answer(device_id: deviceID, owner_id: device.ownerID, commissioned: device.commissionedMs != nil,
                                                may_mint: standing.mayMint, refusal: standing.refusal))
        case "iot.claim":
            struct Claim: Decodable { var device_id: String; var owner: String; var claim_signature: String }
            let claim = try JSONCoding.decodeBody(Claim.self, from: request)
            let registration = Devices.Registration(device_id: claim.device_id, claim_signature: claim.claim_signature)
            return try JSONCoding.encode(try Devices(host: host, policy: policy).register(registration, owner: claim.owner))
        case "iot.authenticate":
            let post = try JSONCoding.decodeBody(DevicePost.self, from: request)
            return try JSONCoding.encode(try DeviceAuthentication(host: host, policy: policy).authenticate(post))
        case "iot.commission":
            let order = try JSONCoding.decodeBody(Commissioning.Order.self, from: request)
            return try JSONCoding.encode(try Commissioning(host: host, policy: policy).commission(order, by: order.operator_id ?? "console"))
        case "iot.decommission":
            let input = try JSONCoding.decodeBody(Commissioning.Decommission.self, from: request)
            return try JSONCoding.encode(try Commissioning(host: host, policy: policy).decommission(input, by: input.operator_id ?? "console"))
        default:
            throw PluginError(.unknownService, "iot has no service \(name)")
        }
    }
}

@_cdecl("stl_plugin_entry")
public func stl_plugin_entry(_ hostABIMajor: UInt32, _ hostABIMinor: UInt32) -> UnsafeRawPointer? {
    exportPlugin(IoTPlugin.self, hostABIMajor: hostABIMajor)
}
