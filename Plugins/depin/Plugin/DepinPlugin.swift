import DepinCore
import Foundation
import IoTCore
import LedgerClient
import StelltronPluginKit

/// The DePIN plugin: the hardware node registry with uptime-based rewards, and the network node
/// operators' registry. Rewards are minted to the operator through the ledger. Which devices may
/// earn is the iot plugin's word (behaviour §13): a node is a device the caller owns there and the
/// trust policy lets mint, and its heartbeats are accepted through `iot.authenticate` (signed,
/// single-use). kWh routed is bounded by the device's rating × the time since its last heartbeat;
/// the onboarding bonus is paid once per device, after a day of credited uptime.
final class DepinPlugin: StelltronPlugin {
    static let manifest = PluginManifest(
        id: "depin",
        version: "1.0.0",
        description: "node registry and uptime rewards",
        routes: [
            Route(.post, "/api/v1/depin/register", access: .protected, mode: .write, summary: "Register a hardware node (100 LT bonus after a day of uptime)",
                  requestSchema: #"{"type":"object","properties":{"device_id":{"type":"string","pattern":"^[A-Za-z0-9._:-]{1,64}$"},"hardware_type":{"type":"string","maxLength":64},"firmware_version":{"type":"string","maxLength":64},"claim_signature":{"type":"string","pattern":"^[0-9a-fA-F]{128}$"}},"required":["device_id"]}"#),
            Route(.post, "/api/v1/depin/heartbeat", access: .public, mode: .write, summary: "Uptime and kWh routed, signed by the device; mints rewards",
                  requestSchema: #"{"type":"object","properties":{"device_id":{"type":"string","pattern":"^[A-Za-z0-9._:-]{1,64}$"},"kwh_routed":{"type":"number","minimum":0,"maximum":1000}},"required":["device_id"]}"#),
            Route(.get, "/api/v1/depin/nodes", access: .public, mode: .read, summary: "All DePIN nodes"),
            Route(.get, "/api/v1/depin/stats", access: .public, mode: .read, summary: "Network-wide statistics and health"),
            Route(.post, "/api/v1/network/node/register", access: .protected, mode: .write, summary: "Become a network node operator",
                  requestSchema: #"{"type":"object","properties":{"location":{"type":"string","minLength":1,"maxLength":200}},"required":["location"]}"#),
            Route(.get, "/api/v1/network/nodes", access: .protected, mode: .read, summary: "All network nodes"),
        ],
        services: [Service("depin.stats", writes: false, summary: "node counts and rewards")],
        migrations: [
            Migration("001_nodes", """
                CREATE TABLE depin_nodes (
                    device_id TEXT PRIMARY KEY,
                    operator_id TEXT NOT NULL,
                    hardware_type TEXT NOT NULL,
                    firmware_version TEXT NOT NULL,
                    registered_ms INTEGER NOT NULL,
                    last_seen_ms INTEGER NOT NULL,
                    uptime_seconds REAL NOT NULL DEFAULT 0,
                    reliability REAL NOT NULL DEFAULT 100,
                    kwh_routed REAL NOT NULL DEFAULT 0,
                    rewards_micro INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE depin_network_nodes (
                    id INTEGER PRIMARY KEY,
                    operator_id TEXT NOT NULL,
                    location TEXT NOT NULL,
                    registered_at TEXT NOT NULL
                );
                """),
            // The bonus vests after credited uptime instead of at registration; nodes registered
            // before were paid at once.
            Migration("002_vested_bonus", """
                ALTER TABLE depin_nodes ADD COLUMN bonus_paid_ms INTEGER;
                UPDATE depin_nodes SET bonus_paid_ms = registered_ms;
                """),
        ]
    )

    static let registrationBonusMicro: Int64 = 100_000_000
    /// Credited uptime before the onboarding bonus is paid: a node earns it by serving, so an id
    /// that is registered and never runs earns nothing.
    static let bonusVestingSeconds: Double = 86_400

    init(config: JSONValue, host: PluginHost) throws {}

    func handle(_ request: PluginRequest, host: PluginHost) throws -> PluginResponse {
        switch request.route {
        case "/api/v1/depin/register": return try register(request, host: host)
        case "/api/v1/depin/heartbeat": return try heartbeat(request, host: host)
        case "/api/v1/depin/nodes":
            return try .json(try host.query("SELECT * FROM depin_nodes ORDER BY registered_ms, device_id").map { nodeJSON($0, host: host) })
        case "/api/v1/depin/stats": return try .json(try stats(host))
        case "/api/v1/network/node/register":
            let caller = try request.requireUser()
            struct Registration: Decodable { var location: String }
            let input = try request.decode(Registration.self)
            guard (1...200).contains(input.location.utf8.count) else { throw PluginError.badRequest("location must be 1–200 characters") }
            struct Promotion: Encodable { let id: String; let role: String; let location: String }
            struct User: Decodable { let role: String }
            let user = try host.call("host.users.set_role", Promotion(id: caller.id, role: "NetworkNodeOperator", location: input.location), as: User.self)
            let id = try host.nextValue(of: "id", in: "depin_network_nodes")
            let now = Timestamp.iso8601(host.now())
            try host.execute("INSERT INTO depin_network_nodes (id, operator_id, location, registered_at) VALUES (?, ?, ?, ?)",
                             [.int(id), .text(caller.id), .text(input.location), .text(now)])
            return try .json(["id": .int(id), "operator_id": .string(caller.id), "location": .string(input.location),
                              "role": .string(user.role), "registered_at": .string(now)] as [String: JSONValue], status: 201)
        case "/api/v1/network/nodes":
            _ = try request.requireUser()
            return try .json(try host.query("SELECT id, operator_id, location, registered_at FROM depin_network_nodes ORDER BY id"))
        default:
            throw PluginError.notFound("no route \(request.route)")
        }
    }

    private func register(_ request: PluginRequest, host: PluginHost) throws -> PluginResponse {
        let caller = try request.requireUser()
        struct Registration: Decodable {
            var device_id: String; var operator_wallet: String?; var hardware_type: String?; var firmware_version: String?
            /// Registering an unclaimed commissioned device claims it too (behaviour §6), with the
            /// device's signature of the claim like `/api/v1/iot/device/register`.
            var claim_signature: String?
        }
        let input = try request.decode(Registration.self)
        try StelltronKit.Identifiers.validate(input.device_id)
        if let wallet = input.operator_wallet, wallet != caller.id { throw PluginError.forbidden("operator_wallet must be the signed-in user") }
        let hardware = input.hardware_type ?? "unknown", firmware = input.firmware_version ?? "unknown"
        try StelltronKit.Identifiers.validateText(hardware, field: "hardware_type", maxLength: 64)
        try StelltronKit.Identifiers.validateText(firmware, field: "firmware_version", maxLength: 64)
        if try !host.query("SELECT device_id FROM depin_nodes WHERE device_id = ?", [.text(input.device_id)]).isEmpty {
            throw PluginError.conflict("device \(input.device_id) is already registered")
        }
        try requireEarningDevice(input.device_id, ownedBy: caller.id, claim: input.claim_signature, host: host)
        let now = Int64(host.now().timeIntervalSince1970 * 1000)
        try host.execute("""
            INSERT INTO depin_nodes (device_id, operator_id, hardware_type, firmware_version, registered_ms, last_seen_ms, rewards_micro)
            VALUES (?, ?, ?, ?, ?, ?, 0)
            """, [.text(input.device_id), .text(caller.id), .text(hardware), .text(firmware), .int(now), .int(now)])
        guard let row = try host.query("SELECT * FROM depin_nodes WHERE device_id = ?", [.text(input.device_id)]).first else {
            throw PluginError.internalError("node vanished after registration")
        }
        var node = nodeJSON(row, host: host)
        node["bonus_pending"] = .double(Double(Self.registrationBonusMicro) / 1e6)
        node["bonus_vests_after_uptime_hours"] = .double(Self.bonusVestingSeconds / 3600)
        try host.emit("depin_register", node)
        return try .json(node, status: 201)
    }

    /// A node is a device the caller owns in the iot plugin (or claims now, with `claim`), which
    /// the trust policy lets earn.
    private func requireEarningDevice(_ deviceID: String, ownedBy caller: String, claim: String?, host: PluginHost) throws {
        struct Device: Decodable { let owner_id: String?; let may_mint: Bool; let refusal: String? }
        var device: Device
        do {
            device = try host.call("iot.device", ["device_id": deviceID], as: Device.self)
        } catch let error as PluginError where error.kind == .unknownService {
            throw PluginError.forbidden("no device registry (the iot plugin) is loaded: nodes cannot be registered")
        } catch let error as PluginError where error.kind == .notFound {
            throw PluginError.notFound("device \(deviceID) is unknown: claim it with /api/v1/iot/device/register first")
        }
        if device.owner_id == nil, let claim {
            struct Claim: Encodable { let device_id: String; let owner: String; let claim_signature: String }
            struct Claimed: Decodable { let owner_id: String? }
            let claimed = try host.call("iot.claim", Claim(device_id: deviceID, owner: caller, claim_signature: claim), as: Claimed.self)
            device = Device(owner_id: claimed.owner_id, may_mint: device.may_mint, refusal: device.refusal)
        }
        guard device.owner_id == caller else {
            throw PluginError.forbidden("device \(deviceID) is not yours: only its owner in /api/v1/iot/devices can register it")
        }
        guard device.may_mint else { throw PluginError.forbidden(device.refusal ?? "device \(deviceID) may not earn") }
    }

    private func heartbeat(_ request: PluginRequest, host: PluginHost) throws -> PluginResponse {
        struct Beat: Decodable { var device_id: String; var kwh_routed: Double? }
        let input = try request.decode(Beat.self)
        try StelltronKit.Identifiers.validate(input.device_id)
        let kwh = input.kwh_routed ?? 0
        guard kwh.isFinite, kwh >= 0, kwh <= 1_000 else { throw PluginError.badRequest("kwh_routed must be within 0–1000") }
        guard let row = try host.query("SELECT * FROM depin_nodes WHERE device_id = ?", [.text(input.device_id)]).first else {
            throw PluginError.notFound("device \(input.device_id) is not registered")
        }
        let device = try authenticate(request, deviceID: input.device_id, host: host)
        let operatorID = row["operator_id"]?.stringValue ?? ""
        guard device.owner_id == operatorID else {
            throw PluginError.forbidden("device \(input.device_id) no longer belongs to its DePIN operator")
        }
        let now = Int64(host.now().timeIntervalSince1970 * 1000)
        let lastSeen = row["last_seen_ms"]?.int64Value ?? now, registered = row["registered_ms"]?.int64Value ?? now
        let gap = Double(max(now - lastSeen, 0)) / 1000
        let maxKWh = device.rated_kw * gap / 3600
        guard kwh <= maxKWh * (1 + 1e-9) else {
            throw PluginError.badRequest(String(format: "%.4f kWh routed in %.0f s exceeds the %.3g kW rating of device %@ (at most %.4f kWh)",
                                                kwh, gap, device.rated_kw, input.device_id, maxKWh))
        }
        let credited = Uptime.creditedSeconds(sinceLastSeen: gap)
        let uptime = (row["uptime_seconds"]?.doubleValue ?? 0) + credited
        let reliability = Uptime.reliability(uptime: uptime, sinceRegistration: Double(now - registered) / 1000)
        let reward = Uptime.rewardMicro(creditedSeconds: credited, kwhRouted: kwh)
        let vests = row["bonus_paid_ms"]?.int64Value == nil && uptime >= Self.bonusVestingSeconds
        let bonus = vests ? Self.registrationBonusMicro : 0
        try host.execute("""
            UPDATE depin_nodes SET last_seen_ms = ?, uptime_seconds = ?, reliability = ?, kwh_routed = kwh_routed + ?,
                rewards_micro = rewards_micro + ?, bonus_paid_ms = CASE WHEN ? = 1 THEN ? ELSE bonus_paid_ms END WHERE device_id = ?
            """, [.int(now), .double(uptime), .double(reliability), .double(kwh), .int(reward + bonus), .int(vests ? 1 : 0), .int(now),
                  .text(input.device_id)])
        if reward > 0 { try mint(to: operatorID, reward, reason: "depin_uptime_reward", reference: input.device_id, host: host) }
        if vests { try mint(to: operatorID, bonus, reason: "depin_registration_bonus", reference: input.device_id, host: host) }
        return try .json(["device_id": .string(input.device_id), "credited_seconds": .double(credited), "uptime_seconds": .double(uptime),
                          "reliability": .double((reliability * 100).rounded() / 100), "reward": .double(Double(reward) / 1e6),
                          "bonus_paid": .double(Double(bonus) / 1e6),
                          "total_rewards": .double(Double((row["rewards_micro"]?.int64Value ?? 0) + reward + bonus) / 1e6)] as [String: JSONValue])
    }

    /// The device's word that this heartbeat is its own, fresh and earning (through the iot plugin).
    private func authenticate(_ request: PluginRequest, deviceID: String, host: PluginHost) throws -> (owner_id: String?, rated_kw: Double) {
        struct Accepted: Decodable { let owner_id: String?; let rated_kw: Double }
        let post = DevicePost(deviceID: deviceID, method: request.method, path: request.path, headers: request.headers, body: request.body)
        do {
            let accepted = try host.call("iot.authenticate", post, as: Accepted.self)
            return (accepted.owner_id, accepted.rated_kw)
        } catch let error as PluginError where error.kind == .unknownService {
            throw PluginError.forbidden("no device registry (the iot plugin) is loaded: heartbeats cannot earn")
        }
    }

    func callService(_ name: String, request: Data, host: PluginHost) throws -> Data {
        guard name == "depin.stats" else { throw PluginError(.unknownService, "depin has no service \(name)") }
        return try JSONCoding.encode(try stats(host))
    }

    private func stats(_ host: PluginHost) throws -> [String: JSONValue] {
        let since = Int64(host.now().timeIntervalSince1970 * 1000) - 600_000
        let row = try host.query("""
            SELECT COUNT(*) AS n, COALESCE(SUM(kwh_routed), 0) AS kwh, COALESCE(SUM(rewards_micro), 0) AS rewards,
                   COALESCE(AVG(reliability), 0) AS reliability, COALESCE(SUM(CASE WHEN last_seen_ms >= ? THEN 1 ELSE 0 END), 0) AS online
            FROM depin_nodes
            """, [.int(since)]).first ?? [:]
        let nodes = Int(row["n"]?.int64Value ?? 0)
        let online = nodes > 0 ? Double(row["online"]?.int64Value ?? 0) / Double(nodes) : 0
        let reliability = row["reliability"]?.doubleValue ?? 0
        let network = try host.query("SELECT COUNT(*) AS n FROM depin_network_nodes").first?["n"]?.int64Value ?? 0
        return ["total_nodes": .int(Int64(nodes)), "total_kwh_routed": row["kwh"] ?? .int(0),
                "rewards_paid": .double(Double(row["rewards"]?.int64Value ?? 0) / 1e6), "average_reliability": .double((reliability * 100).rounded() / 100),
                "online_share": .double(online), "network_nodes": .int(network),
                "network_health": .string(Uptime.networkHealth(nodes: nodes, averageReliability: reliability, onlineShare: online))]
    }

    private func mint(to account: String, _ amount: Int64, reason: String, reference: String, host: PluginHost) throws {
        try LedgerClient(host: host).mint(to: account, amount, kind: "reward", reason: reason, reference: reference)
    }

    private func nodeJSON(_ row: [String: JSONValue], host: PluginHost) -> [String: JSONValue] {
        let lastSeen = row["last_seen_ms"]?.int64Value ?? 0
        return ["device_id": row["device_id"] ?? .null, "operator_wallet": row["operator_id"] ?? .null,
                "hardware_type": row["hardware_type"] ?? .null, "firmware_version": row["firmware_version"] ?? .null,
                "uptime_seconds": row["uptime_seconds"] ?? .null, "reliability": row["reliability"] ?? .null,
                "kwh_routed": row["kwh_routed"] ?? .null, "total_rewards": .double(Double(row["rewards_micro"]?.int64Value ?? 0) / 1e6),
                "online": .bool(Int64(host.now().timeIntervalSince1970 * 1000) - lastSeen <= 600_000),
                "last_seen": .string(Timestamp.iso8601(Date(timeIntervalSince1970: Double(lastSeen) / 1000))),
                "registered_at": .string(Timestamp.iso8601(Date(timeIntervalSince1970: Double(row["registered_ms"]?.int64Value ?? 0) / 1000)))]
    }
}

@_cdecl("stl_plugin_entry")
public func stl_plugin_entry(_ hostABIMajor: UInt32, _ hostABIMinor: UInt32) -> UnsafeRawPointer? {
    exportPlugin(DepinPlugin.self, hostABIMajor: hostABIMajor)
}
