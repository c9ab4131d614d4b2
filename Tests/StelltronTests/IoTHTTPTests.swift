import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import IoTCore
import StelltronHost
import StelltronPluginKit
import StelltronTesting
import Testing

/// The Pi's endpoints with the ledger and the market loaded, over real HTTP, and the live stream
/// carrying each event type.
@Suite("iot over HTTP")
struct IoTHTTPTests {
    private func withIoT(config: String = "{}", over setup: TestingSetup = .router,
                         _ body: @escaping @Sendable (DomainHost) async throws -> Void) async throws {
        try await DomainHost.with(["ledger", "market", "iot"], config: ["iot": config], over: setup, body)
    }

    static let nodeData = """
        {"device_id":"rpi-4b-prod-01","voltage":3.921,"battery_level":72.4,"state":"IDLE","source":"rpi_energy_grid",
         "timestamp":"2026-02-23T09:56:48Z","connected_nodes_count":2,
         "connected_nodes":[{"uid":"NODE_A","voltage":3.921},{"uid":"NODE_B","voltage":3.610}],
         "nodes_detail":[{"uid":"NODE_A","ip":"192.168.1.101","voltage":3.921,"soc":72.4,"state":"IDLE"}],"firmware":"extra field"}
        """

    @Test func thePiToTokensFlowAndEveryEventOnTheStream() async throws {
        let operatorWallet = TestWallet()
        try await withIoT(config: #"{"operators":["\#(operatorWallet.address)"]}"#, over: .live) { client in
            let stream = try await SSEClient(port: try #require(client.http.port))
            let owner = TestWallet()
            let token = try await client.signIn(owner)
            let pi = TestDevice("rpi-4b-prod-01")

            let (hb, heartbeat, _) = try await client.post("/iot/ping", #"{"device_id":"rpi-4b-prod-01","status":"heartbeat"}"#)
            #expect(hb == .ok)
            #expect(heartbeat["type"] as? String == "heartbeat" && heartbeat["updated"] as? Bool == true)
            let (nd, nodeData, _) = try await client.post("/iot/ping", Self.nodeData)
            #expect(nd == .ok)
            #expect(nodeData["type"] as? String == "node_data")
            #expect((nodeData["commands"] as? [Any])?.isEmpty == true)

            // Before an operator commissions the Pi, nobody can claim it and its energy cannot mint.
            let (unowned, refusal, _) = try await client.post("/iot/energy/report", #"{"device_id":"rpi-4b-prod-01","kwh_transferred":0.5}"#)
            #expect(unowned == .forbidden)
            #expect((refusal["error"] as? String)?.contains("not commissioned") == true)
            #expect(try await client.post("/api/v1/iot/device/register", #"{"device_id":"rpi-4b-prod-01"}"#, token: token).0 == .forbidden)

            // The operator commissions it over HTTP (a wallet listed in the config; others: 403).
            let commission = #"{"device_id":"rpi-4b-prod-01","public_key":"\#(pi.publicKey)","rated_kw":5}"#
            #expect(try await client.post("/api/v1/iot/device/commission", commission, token: token).0 == .forbidden)
            let operatorToken = try await client.signIn(operatorWallet)
            let (commissioned, record, _) = try await client.post("/api/v1/iot/device/commission", commission, token: operatorToken)
            #expect(commissioned == .ok)
            #expect(record["commissioned"] as? Bool == true && record["rated_kw"] as? Double == 5)
            // The owner claims it with the Pi's signature of the claim; another user's is refused.
            let stranger = try await client.signIn(TestWallet())
            let forged = #"{"device_id":"rpi-4b-prod-01","claim_signature":"\#(pi.claim(by: owner.address))"}"#
            #expect(try await client.post("/api/v1/iot/device/register", forged, token: stranger).0 == .unauthorized)
            let (claimed, device, _) = try await client.post("/api/v1/iot/device/register", """
                {"device_type":"raspi","location":"Bangalore, India","device_id":"rpi-4b-prod-01","claim_signature":"\(pi.claim(by: owner.address))"}
                """, token: token)
            #expect(claimed == .created)
            #expect(device["owner_id"] as? String == owner.address)
            #expect(try await client.post("/api/v1/iot/device/register", #"{"device_id":"rpi-4b-prod-01"}"#, token: stranger).0 == .conflict)
            let mine = try JSONSerialization.jsonObject(with: try await client.get("/api/v1/iot/devices", token: token).1) as? [[String: Any]]
            #expect(mine?.map { $0["device_id"] as? String } == ["rpi-4b-prod-01"])
            #expect((try JSONSerialization.jsonObject(with: try await client.get("/api/v1/iot/devices", token: stranger).1) as? [Any])?.isEmpty == true)

            let (started, _, _) = try await client.post("/iot/transfer", #"{"device_id":"rpi-4b-prod-01","sender_uid":"NODE_A","receiver_uid":"NODE_B"}"#)
            #expect(started == .ok)
            let (_, schedule, _) = try await client.post("/iot/cmd", """
                {"device_id":"rpi-4b-prod-01","nodes":[{"uid":"NODE_A","voltage":3.921,"soc":72.4,"state":"IDLE"},
                 {"uid":"NODE_B","voltage":3.610,"soc":28.1,"state":"IDLE"}]}
                """)
            let commands = try #require(schedule["commands"] as? [[String: Any]])
            #expect(commands.map { $0["action"] as? String } == ["discharge", "charge"])
            #expect(commands.first?["reason"] as? String == "manual transfer command (discharge)")
            #expect((schedule["grid_summary"] as? [String: Any])?["avg_soc"] as? Double == 50.3)
            let (_, withCommands, _) = try await client.post("/iot/ping", Self.nodeData)
            #expect((withCommands["commands"] as? [[String: Any]])?.count == 2)
            let nodes = try JSONSerialization.jsonObject(with: try await client.get("/iot/nodes/rpi-4b-prod-01").1) as? [[String: Any]]
            #expect(nodes?.map { $0["action"] as? String } == ["discharge", "charge"])

            let report = #"{"device_id":"rpi-4b-prod-01","sender_uid":"NODE_A","receiver_uid":"NODE_B","kwh_transferred":0.5,"duration_seconds":1800,"avg_voltage":3.92,"avg_current":0.27,"report_id":"r-1"}"#
            // Unsigned, the report mints nothing; signed after the 30 minutes it covers, it mints.
            #expect(try await client.post("/iot/energy/report", report).0 == .unauthorized)
            client.clock.advance(1800)
            let (minted, answer, raw) = try await client.signed(pi, "/iot/energy/report", report)
            #expect(minted == .ok)
            #expect(answer["status"] as? String == "minted")
            #expect(answer["tokens_minted"] as? Double == 526.67)
            #expect(answer["quality_factor"] as? Double == 1.053)
            #expect(abs((answer["co2_saved_kg"] as? Double ?? 0) - 0.41) < 1e-9)
            #expect(abs((answer["carbon_credit"] as? Double ?? 0) - 0.0205) < 1e-9)
            #expect((answer["tx_hash"] as? String)?.count == 64)
            #expect((answer["sell_order_id"] as? String)?.isEmpty == false)
            #expect((answer["message"] as? String)?.hasPrefix("526.67 LT tokens minted for 0.5000 kWh → auto-listed at") == true)
            // The same report again (a Pi retrying, newly signed) changes nothing and answers the same.
            let (_, _, again) = try await client.signed(pi, "/iot/energy/report", report)
            #expect(again == raw)
            let renewed = try await client.signIn(owner) // the first token expired with the moved clock

            let supply = Fixtures.json(try await client.get("/api/v1/tokens/supply").1)
            #expect(supply["total_minted"] as? Double == 526.67)
            let mints = Fixtures.json(try await client.get("/api/v1/ledger/mints").1)
            #expect((mints["mints"] as? [[String: Any]])?.first?["source_device"] as? String == "rpi-4b-prod-01")
            #expect(mints["total_mints"] as? Int == 1)
            let orders = try JSONSerialization.jsonObject(with: try await client.get("/api/v1/market/orders", token: renewed).1) as? [[String: Any]]
            #expect(orders?.first?["id"] as? String == answer["sell_order_id"] as? String)
            #expect(orders?.first?["kwh_amount"] as? Double == 0.5)
            // 526.67 minted, 500 reserved for the listing.
            let balance = Fixtures.json(try await client.get("/api/v1/ledger/balance/\(owner.address)").1)
            #expect(abs((balance["balance"] as? Double ?? 0) - 26.67) < 1e-9)
            #expect(try await client.get("/api/v1/auth/me", token: renewed).1.contains(Data("Donor".utf8)))

            let (stopped, _, _) = try await client.post("/iot/transfer/stop", #"{"device_id":"rpi-4b-prod-01"}"#)
            #expect(stopped == .ok)

            // A buyer takes the listed energy: the trade reaches the stream too.
            let buyer = try await client.signIn(TestWallet())
            _ = try await client.post("/api/v1/market/order/create", #"{"type":"buy","kwh_amount":0.5,"token_price":100}"#, token: buyer)

            var types: [String] = []
            while let message = try await stream.next(timeout: 5) {
                types.append(Fixtures.json(Data(message.data.utf8))["type"] as? String ?? "?")
                if types.contains("trade") { break }
            }
            for expected in ["heartbeat", "node_data", "transfer", "schedule", "energy_mint", "trade"] {
                #expect(types.contains(expected), "\(expected) missing from \(types)")
            }
            let verify = Fixtures.json(try await client.get("/api/v1/ledger/verify").1)
            #expect(verify["valid"] as? Bool == true)
        }
    }

    /// The price's inputs from telemetry, averaged in the database: the mean state of charge of
    /// the nodes seen in the last 10 minutes that reported one, and the same mean as
    /// `qualityScore` over each device with both measures; none when nothing reported them.
    @Test func telemetrySummaryAveragesSoCAndQualityLikeTheFormula() async throws {
        try await withIoT { client in
            func summary() async throws -> [String: Any] {
                let answer = try await client.runtime.callService("iot.telemetry_summary", json: Data("{}".utf8), readOnly: true)
                #expect(answer.status == 0)
                return Fixtures.json(answer.body)
            }
            func quality() async throws -> Double? { try await summary()["quality"] as? Double }
            #expect(try await summary()["mean_soc"] as? Double == nil)
            #expect(try await quality() == nil)
            let devices: [(String, Int64, Int64, Double?, Double?)] = [
                ("rpi-a", 7, 9, 91.5, 80), ("rpi-b", 0, 3, 12.25, 99.9), ("rpi-c", 4, 4, nil, 50), ("rpi-d", 1000, 1200, 100, 0.5),
            ]
            for (id, ok, total, stability, health) in devices {
                try await client.runtime.run("INSERT INTO iot_quality (device_id, ok_count, total_count, voltage_stability, battery_health) VALUES (?, ?, ?, ?, ?)",
                                             parameters: [.string(id), .int(ok), .int(total), stability.map(JSONValue.double) ?? .null,
                                                          health.map(JSONValue.double) ?? .null])
            }
            let scores = devices.compactMap { _, ok, total, stability, health in
                stability.flatMap { stability in health.map { EnergyMath.qualityScore(ok: ok, total: total, voltageStability: stability, batteryHealth: $0) } }
            }
            let mean = try #require(try await quality())
            #expect(abs(mean - scores.reduce(0, +) / Double(scores.count)) < 1e-12)
            // NODE_A reports 72.4 %, NODE_B (connected, no detail) no charge: the mean is NODE_A's.
            #expect(try await client.post("/iot/ping", Self.nodeData).0 == .ok)
            #expect(try await summary()["mean_soc"] as? Double == 72.4)
        }
    }

    @Test func badTelemetryIsRefusedAndStoredValuesSurvive() async throws {
        try await withIoT { client in
            _ = try await client.post("/iot/ping", Self.nodeData)
            let cases: [(String, String)] = [
                ("/iot/ping", #"{"status":"heartbeat"}"#),
                ("/iot/ping", #"{"device_id":"","status":"heartbeat"}"#),
                ("/iot/ping", #"{"device_id":"rpi-4b-prod-01","voltage":"high"}"#),
                ("/iot/ping", #"{"device_id":"rpi-4b-prod-01","battery_level":140}"#),
                ("/iot/ping", #"{"device_id":"rpi-4b-prod-01","nodes_detail":[{"uid":"N","soc":101}]}"#),
                ("/iot/cmd", #"{"device_id":"d","nodes":[]}"#),
                ("/iot/cmd", #"{"device_id":"d","nodes":[\#((1...6).map { #"{"uid":"N\#($0)","voltage":3.9,"soc":50,"state":"IDLE"}"# }.joined(separator: ","))]}"#),
                ("/iot/cmd", #"{"device_id":"d","nodes":[{"uid":"N","voltage":3.9,"soc":-1,"state":"IDLE"}]}"#),
                ("/iot/cmd", #"{"device_id":"d","nodes":[{"uid":"N","voltage":3.9,"state":"IDLE"}]}"#),
                ("/iot/transfer", #"{"device_id":"d","sender_node_uid":"A","receiver_node_uid":"A"}"#),
                ("/iot/transfer", #"{"device_id":"d"}"#),
                ("/iot/energy/report", #"{"device_id":"d","kwh_transferred":0.0001}"#),
                ("/iot/energy/report", #"{"device_id":"d","kwh_transferred":11}"#),
                ("/iot/energy/report", #"{"device_id":"d"}"#),
            ]
            for (uri, body) in cases {
                let (status, answer, _) = try await client.post(uri, body)
                #expect(status == .badRequest, "\(uri) \(body)")
                #expect(answer["error"] is String, "\(uri) \(body)")
            }
            // A ping without battery or voltage keeps the stored ones.
            _ = try await client.post("/iot/ping", #"{"device_id":"rpi-4b-prod-01","state":"IDLE","nodes_detail":[{"uid":"NODE_A","state":"IDLE"}]}"#)
            let nodes = try JSONSerialization.jsonObject(with: try await client.get("/iot/nodes/rpi-4b-prod-01").1) as? [[String: Any]]
            let nodeA = try #require(nodes?.first { $0["uid"] as? String == "NODE_A" })
            #expect(nodeA["soc"] as? Double == 72.4)
            #expect(nodeA["voltage"] as? Double == 3.921)
        }
    }

    @Test func anIssuedKeyPairSignsReportsAndTheHostKeepsOnlyItsPublicHalf() async throws {
        try await withIoT(config: #"{"trust":"open"}"#) { client in
            let token = try await client.signIn(TestWallet())
            let (_, device, _) = try await client.post("/api/v1/iot/device/register", #"{"device_id":"rpi-keyed","issue_key":true}"#, token: token)
            let seed = try #require(device["device_key"] as? String)
            #expect(seed.count == 64)
            #expect(device["signed_posts"] as? Bool == true)
            let seedBytes: [UInt8] = try #require(StelltronKit.Hex.decode(seed))
            let pi = TestDevice("rpi-keyed", keys: DeviceKeyPair(seed: seedBytes))
            #expect(device["public_key"] as? String == pi.publicKey)
            client.clock.advance(600)
            let report = #"{"device_id":"rpi-keyed","kwh_transferred":0.2}"#
            // Even in open trust, a device with a key must sign what mints.
            #expect(try await client.post("/iot/energy/report", report).0 == .unauthorized)
            let other = TestDevice("rpi-keyed")
            #expect(try await client.signed(other, "/iot/energy/report", report).0 == .unauthorized)
            var stale = pi.headers("/iot/energy/report", report, at: client.clock.now.addingTimeInterval(-301))
            #expect(try await client.post("/iot/energy/report", report, headers: stale).0 == .unauthorized)
            stale = pi.headers("/iot/energy/report", report, at: client.clock.now, nonce: "short")
            #expect(try await client.post("/iot/energy/report", report, headers: stale).0 == .unauthorized)
            #expect(try await client.signed(pi, "/iot/energy/report", report).0 == .ok)
            // Keys are never shown again; telemetry stays unsigned for every device.
            let listed = try await client.list("/api/v1/iot/devices", token: token)
            #expect(listed.first?["device_key"] == nil)
            #expect(try await client.post("/iot/ping", #"{"device_id":"rpi-keyed","status":"heartbeat"}"#).0 == .ok)
            #expect(try await client.post("/iot/ping", #"{"device_id":"rpi-open","status":"heartbeat"}"#).0 == .ok)
        }
    }

    @Test func pairingSchedulerDecidesWithoutATransfer() async throws {
        try await withIoT { client in
            let (status, answer, _) = try await client.post("/iot/cmd", """
                {"device_id":"rpi-2","nodes":[{"uid":"A","voltage":3.9,"soc":80,"state":"IDLE"},{"uid":"B","voltage":3.9,"soc":30,"state":"IDLE"},
                 {"uid":"C","voltage":3.1,"soc":50,"state":"IDLE"}]}
                """)
            #expect(status == .ok)
            #expect((answer["commands"] as? [[String: Any]])?.map { $0["action"] as? String } == ["discharge", "charge", "idle"])
            let summary = try #require(answer["grid_summary"] as? [String: Any])
            #expect(summary["idle_nodes"] as? Int == 1 && summary["avg_soc"] as? Double == 53.3)
        }
    }
}
