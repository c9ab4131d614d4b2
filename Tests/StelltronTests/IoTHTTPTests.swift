import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import IoTCore
import StelltronHost
import StelltronTesting
import Testing

/// The Pi's endpoints with the ledger and the market loaded, over real HTTP, and the live stream
/// carrying each event type.
@Suite("iot over HTTP")
struct IoTHTTPTests {
    struct Client: Sendable {
        let http: any TestClientProtocol
        let runtime: PluginRuntime

        func post(_ uri: String, _ body: String, token: String? = nil) async throws -> (HTTPResponse.Status, [String: Any], Data) {
            let headers: HTTPFields = token.map { [.authorization: "Bearer \($0)"] } ?? [:]
            let response = try await http.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
            let data = Data(response.body.readableBytesView)
            return (response.status, Fixtures.json(data), data)
        }

        func get(_ uri: String, token: String? = nil) async throws -> (HTTPResponse.Status, Data) {
            let headers: HTTPFields = token.map { [.authorization: "Bearer \($0)"] } ?? [:]
            let response = try await http.execute(uri: uri, method: .get, headers: headers)
            return (response.status, Data(response.body.readableBytesView))
        }

        func signIn(_ wallet: TestWallet) async throws -> String {
            _ = try await post("/api/v1/auth/signup", wallet.proof())
            return try #require(try await post("/api/v1/auth/login", wallet.proof()).1["access_token"] as? String)
        }
    }

    private func withIoT(_ body: @escaping @Sendable (Client) async throws -> Void) async throws {
        let configuration = Fixtures.configuration([
            .init(id: "ledger", library: BuildProducts.library("StelltronLedger")),
            .init(id: "market", library: BuildProducts.library("StelltronMarket")),
            .init(id: "iot", library: BuildProducts.library("StelltronIoT")),
        ])
        let runtime = try Fixtures.runtime(configuration)
        try await buildApplication(runtime: runtime, port: 0).test(.live) { http in try await body(Client(http: http, runtime: runtime)) }
    }

    static let nodeData = """
        {"device_id":"rpi-4b-prod-01","voltage":3.921,"battery_level":72.4,"state":"IDLE","source":"rpi_energy_grid",
         "timestamp":"2026-02-23T09:56:48Z","connected_nodes_count":2,
         "connected_nodes":[{"uid":"NODE_A","voltage":3.921},{"uid":"NODE_B","voltage":3.610}],
         "nodes_detail":[{"uid":"NODE_A","ip":"192.168.1.101","voltage":3.921,"soc":72.4,"state":"IDLE"}],"firmware":"extra field"}
        """

    @Test func thePiToTokensFlowAndEveryEventOnTheStream() async throws {
        try await withIoT { client in
            let stream = try await SSEClient(port: try #require(client.http.port))
            let owner = TestWallet()
            let token = try await client.signIn(owner)

            let (hb, heartbeat, _) = try await client.post("/iot/ping", #"{"device_id":"rpi-4b-prod-01","status":"heartbeat"}"#)
            #expect(hb == .ok)
            #expect(heartbeat["type"] as? String == "heartbeat" && heartbeat["updated"] as? Bool == true)
            let (nd, nodeData, _) = try await client.post("/iot/ping", Self.nodeData)
            #expect(nd == .ok)
            #expect(nodeData["type"] as? String == "node_data")
            #expect((nodeData["commands"] as? [Any])?.isEmpty == true)

            // Before anyone claims the Pi, its energy cannot mint.
            let (unowned, refusal, _) = try await client.post("/iot/energy/report", #"{"device_id":"rpi-4b-prod-01","kwh_transferred":0.5}"#)
            #expect(unowned == .conflict)
            #expect((refusal["error"] as? String)?.contains("has no owner") == true)

            let (claimed, device, _) = try await client.post("/api/v1/iot/device/register",
                                                            #"{"device_type":"raspi","location":"Bangalore, India","device_id":"rpi-4b-prod-01"}"#, token: token)
            #expect(claimed == .created)
            #expect(device["owner_id"] as? String == owner.address)
            let stranger = try await client.signIn(TestWallet())
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
            let (minted, answer, raw) = try await client.post("/iot/energy/report", report)
            #expect(minted == .ok)
            #expect(answer["status"] as? String == "minted")
            #expect(answer["tokens_minted"] as? Double == 526.67)
            #expect(answer["quality_factor"] as? Double == 1.053)
            #expect(abs((answer["co2_saved_kg"] as? Double ?? 0) - 0.41) < 1e-9)
            #expect(abs((answer["carbon_credit"] as? Double ?? 0) - 0.0205) < 1e-9)
            #expect((answer["tx_hash"] as? String)?.count == 64)
            #expect((answer["sell_order_id"] as? String)?.isEmpty == false)
            #expect((answer["message"] as? String)?.hasPrefix("526.67 LT tokens minted for 0.5000 kWh → auto-listed at") == true)
            // The same report again changes nothing and answers the same.
            let (_, _, again) = try await client.post("/iot/energy/report", report)
            #expect(again == raw)

            let supply = Fixtures.json(try await client.get("/api/v1/tokens/supply").1)
            #expect(supply["total_minted"] as? Double == 526.67)
            let mints = Fixtures.json(try await client.get("/api/v1/ledger/mints").1)
            #expect((mints["mints"] as? [[String: Any]])?.first?["source_device"] as? String == "rpi-4b-prod-01")
            #expect(mints["total_mints"] as? Int == 1)
            let orders = try JSONSerialization.jsonObject(with: try await client.get("/api/v1/market/orders", token: token).1) as? [[String: Any]]
            #expect(orders?.first?["id"] as? String == answer["sell_order_id"] as? String)
            #expect(orders?.first?["kwh_amount"] as? Double == 0.5)
            // 526.67 minted, 500 reserved for the listing.
            let balance = Fixtures.json(try await client.get("/api/v1/ledger/balance/\(owner.address)").1)
            #expect(abs((balance["balance"] as? Double ?? 0) - 26.67) < 1e-9)
            #expect(try await client.get("/api/v1/auth/me", token: token).1.contains(Data("Donor".utf8)))

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

    @Test func devicesWithAKeyMustSignTheirPosts() async throws {
        try await withIoT { client in
            let token = try await client.signIn(TestWallet())
            let (_, device, _) = try await client.post("/api/v1/iot/device/register", #"{"device_id":"rpi-keyed","issue_key":true}"#, token: token)
            let key = try #require(device["device_key"] as? String)
            #expect(key.count == 64)
            #expect(device["signed_posts"] as? Bool == true)
            let body = #"{"device_id":"rpi-keyed","status":"heartbeat"}"#
            func post(timestamp: Int64?, signature: String?) async throws -> HTTPResponse.Status {
                var headers: HTTPFields = [:]
                if let timestamp { headers[HTTPField.Name("X-Device-Timestamp")!] = String(timestamp) }
                if let signature { headers[HTTPField.Name("X-Device-Signature")!] = signature }
                return try await client.http.execute(uri: "/iot/ping", method: .post, headers: headers, body: ByteBuffer(string: body)).status
            }
            let now = Int64(Date().timeIntervalSince1970)
            #expect(try await post(timestamp: nil, signature: nil) == .unauthorized)
            #expect(try await post(timestamp: now, signature: DeviceSignature.sign(key: key, timestamp: now, body: Data(body.utf8))) == .ok)
            #expect(try await post(timestamp: now, signature: DeviceSignature.sign(key: "other", timestamp: now, body: Data(body.utf8))) == .unauthorized)
            #expect(try await post(timestamp: now - 301, signature: DeviceSignature.sign(key: key, timestamp: now - 301, body: Data(body.utf8))) == .unauthorized)
            #expect(try await post(timestamp: now + 1, signature: DeviceSignature.sign(key: key, timestamp: now, body: Data(body.utf8))) == .unauthorized)
            // Keys are never shown again, and devices without one keep working.
            let listed = try JSONSerialization.jsonObject(with: try await client.get("/api/v1/iot/devices", token: token).1) as? [[String: Any]]
            #expect(listed?.first?["device_key"] == nil)
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
