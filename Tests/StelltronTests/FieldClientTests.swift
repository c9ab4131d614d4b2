import Foundation
import HTTPTypes
import StelltronHost
import StelltronTesting
import Testing

/// Issue 14, groups A and B: the contract's promises and the original project's field clients
/// (the mains-voltage Pi simulator, firmware v3), replayed as they post.
@Suite("the contract and the field clients")
struct FieldClientTests {
    static let all = ["ledger", "market", "iot", "depin"]

    /// A1: registering a commissioned device through DePIN (with its claim) makes the caller its
    /// owner, so its energy reports mint to them.
    @Test func depinRegistrationClaimsTheDevice() async throws {
        try await DomainHost.with(Self.all) { host in
            let owner = TestWallet(), pi = TestDevice("rpi-depin-only")
            let token = try await host.signIn(owner)
            try await host.commission(pi, ratedKW: 5)
            #expect(try await host.post("/api/v1/depin/register", #"{"device_id":"rpi-depin-only"}"#, token: token).0 == .forbidden)
            let body = #"{"device_id":"rpi-depin-only","claim_signature":"\#(pi.claim(by: owner.address))"}"#
            #expect(try await host.post("/api/v1/depin/register", body, token: token).0 == .created)
            let devices = try await host.list("/api/v1/iot/devices", token: token)
            #expect(devices.map { $0["device_id"] as? String } == ["rpi-depin-only"])
            // The owner names the device later; a field left out keeps what is stored.
            _ = try await host.post("/api/v1/iot/device/register", #"{"device_id":"rpi-depin-only","location":"Pune"}"#, token: token)
            _ = try await host.post("/api/v1/iot/device/register", #"{"device_id":"rpi-depin-only","device_type":"rpi5"}"#, token: token)
            let named = try #require(try await host.list("/api/v1/iot/devices", token: token).first)
            #expect(named["location"] as? String == "Pune" && named["device_type"] as? String == "rpi5")
            host.clock.advance(600)
            let (status, answer, _) = try await host.signed(pi, "/iot/energy/report", #"{"device_id":"rpi-depin-only","kwh_transferred":0.2}"#)
            #expect(status == .ok)
            #expect(answer["tokens_minted"] as? Double == 200)
            #expect(try await host.balance(owner.address) == 0) // all 200 LT listed for sale
            #expect(try await host.totalMinted() == 200)
        }
    }

    /// A2: a wrong method on a host route is a 405 JSON with `Allow`, like the plugin routes.
    @Test func hostRoutesAnswerWrongMethodsWith405() async throws {
        try await DomainHost.with(["ledger"]) { host in
            for (method, path, allowed) in [(HTTPRequest.Method.get, "/api/v1/auth/signup", "POST"), (.put, "/api/v1/auth/login", "POST"),
                                            (.get, "/api/v1/auth/refresh", "POST"), (.post, "/api/v1/auth/me", "GET"),
                                            (.get, "/api/v1/auth/challenge", "POST"), (.post, "/health", "GET"),
                                            (.delete, "/openapi.json", "GET"), (.post, "/iot/events", "GET"), (.post, "/ws/market", "GET")] {
                let response = try await host.http.execute(uri: path, method: method)
                #expect(response.status == .methodNotAllowed, "\(method) \(path)")
                #expect(response.headers[.allow] == allowed, "\(method) \(path)")
                #expect(Fixtures.json(Data(response.body.readableBytesView))["error"] is String, "\(method) \(path)")
            }
            let plain = try await host.http.execute(uri: "/ws/market", method: .get)
            #expect(plain.status == .upgradeRequired)
            #expect(Fixtures.json(Data(plain.body.readableBytesView))["error"] is String)
        }
    }

    /// A3 and A4: the overview's top-level figures, and the SSE `energy_mint` payload carrying the
    /// answer's fields themselves.
    @Test func overviewFiguresAndTheEnergyMintPayload() async throws {
        try await DomainHost.with(Self.all, config: ["iot": #"{"trust":"open"}"#], over: .live) { host in
            let stream = try await SSEClient(port: try #require(host.http.port))
            let token = try await host.signIn(TestWallet())
            #expect(try await host.post("/api/v1/iot/device/register", #"{"device_id":"rpi-open"}"#, token: token).0 == .created)
            host.clock.advance(600)
            let (_, answer, _) = try await host.post("/iot/energy/report", #"{"device_id":"rpi-open","kwh_transferred":0.5,"avg_voltage":3.92}"#)
            var payload: [String: Any] = [:]
            while let message = try await stream.next(timeout: 5) {
                let event = Fixtures.json(Data(message.data.utf8))
                if event["type"] as? String == "energy_mint" { payload = event["payload"] as? [String: Any] ?? [:]; break }
            }
            #expect(payload["tokens_minted"] as? Double == answer["tokens_minted"] as? Double)
            #expect(payload["tx_hash"] as? String == answer["tx_hash"] as? String)
            #expect(payload["device_id"] as? String == "rpi-open")
            #expect(payload["minted"] == nil)
            let overview = Fixtures.json(try await host.get("/api/v1/ledger/overview").1)
            #expect(overview["total_minted"] as? Double == 526.67)
            #expect(overview["total_burned"] as? Double == 0)
            #expect(overview["circulating_supply"] as? Double == 526.67)
            #expect(abs((overview["total_co2_saved_kg"] as? Double ?? 0) - 0.41) < 1e-9)
            #expect((overview["tokens"] as? [String: Any])?["total_minted"] as? Double == 526.67)
        }
    }

    /// B5: the original simulator's mains voltages and bare pings.
    @Test func mainsVoltagesAreTelemetryToo() async throws {
        try await DomainHost.with(Self.all) { host in
            let (status, answer, _) = try await host.post("/iot/ping", #"{"device_id":"sim-01","voltage":230.4,"battery_level":64,"state":"IDLE","connected_nodes":[{"uid":"N1","voltage":229.8}]}"#)
            #expect(status == .ok && answer["type"] as? String == "node_data")
            let (cmd, schedule, _) = try await host.post("/iot/cmd", #"{"device_id":"sim-01","nodes":[{"uid":"N1","voltage":231,"soc":80,"state":"IDLE"},{"uid":"N2","voltage":229,"soc":20,"state":"idle"}]}"#)
            #expect(cmd == .ok)
            #expect((schedule["commands"] as? [[String: Any]])?.map { $0["action"] as? String } == ["discharge", "charge"])
        }
    }

    /// B6: firmware v3 polls `/iot/cmd` with only its device id and reads `commands`, computed
    /// from the nodes its pings reported.
    @Test func aPollWithoutNodesIsAnsweredFromTheReportedNodes() async throws {
        try await DomainHost.with(Self.all) { host in
            let (empty, none, _) = try await host.post("/iot/cmd", #"{"device_id":"fw3-01"}"#)
            #expect(empty == .ok)
            #expect((none["commands"] as? [Any])?.isEmpty == true)
            _ = try await host.post("/iot/ping", """
                {"device_id":"fw3-01","nodes_detail":[{"uid":"A","voltage":3.95,"soc":85,"state":"IDLE"},{"uid":"B","voltage":3.6,"soc":20,"state":null},
                 {"uid":"C","voltage":3.1,"soc":50,"state":"IDLE"}]}
                """)
            let (status, answer, _) = try await host.post("/iot/cmd", #"{"device_id":"fw3-01"}"#)
            #expect(status == .ok)
            let commands = try #require(answer["commands"] as? [[String: Any]])
            #expect(commands.map { $0["node_id"] as? String } == ["A", "B", "C"])
            #expect(commands.map { $0["action"] as? String } == ["discharge", "charge", "idle"])
            #expect((answer["grid_summary"] as? [String: Any])?["avg_soc"] as? Double == 51.7)
        }
    }

    /// B7: firmware v3's energy report path, MAC-style ids and null node states.
    @Test func firmwareV3ReportsUnderTheAPIPrefix() async throws {
        try await DomainHost.with(Self.all) { host in
            let owner = TestWallet(), pi = TestDevice("00:A0:C9:1E:6B:F1")
            _ = try await host.signIn(owner)
            try await host.commission(pi, ratedKW: 5, owner: owner.address)
            let ping = #"{"device_id":"00:A0:C9:1E:6B:F1","nodes_detail":[{"uid":"00:A0:C9:1E:6B:F2","voltage":3.9,"soc":50,"state":null}]}"#
            #expect(try await host.post("/iot/ping", ping).0 == .ok)
            host.clock.advance(600)
            let report = #"{"device_id":"00:A0:C9:1E:6B:F1","kwh_transferred":0.3,"duration_seconds":600}"#
            #expect(try await host.post("/api/v1/iot/energy/report", report).0 == .unauthorized)
            let (status, answer, _) = try await host.signed(pi, "/api/v1/iot/energy/report", report)
            #expect(status == .ok)
            #expect(answer["tokens_minted"] as? Double == 300)
            // The signature names the path: one made for the other spelling is refused.
            #expect(try await host.post("/iot/energy/report", report, headers: pi.headers("/api/v1/iot/energy/report", report, at: host.clock.now)).0 == .unauthorized)
        }
    }

    /// C13: telemetry outside physics, free-text states, look-alike ids and control characters
    /// are refused and change nothing; C14: telemetry flips and GETs add no price records.
    @Test func badTelemetryIsRefusedAndGETsRecordNoPrices() async throws {
        try await DomainHost.with(Self.all) { host in
            let cases = [
                #"{"device_id":"rpi-1","connected_nodes":[{"uid":"A","voltage":-5}]}"#,
                #"{"device_id":"rpi-1","connected_nodes":[{"uid":"A","voltage":1e308}]}"#,
                #"{"device_id":"rpi-1","nodes_detail":[{"uid":"A","voltage":3.9,"soc":50,"state":"<script>"}]}"#,
                #"{"device_id":"rpi-1","state":"<b>on</b>"}"#,
                #"{"device_id":"rрi-1","status":"heartbeat"}"#, // a Cyrillic 'р'
                #"{"device_id":"rpi-1","source":"pi\u0000evil"}"#,
                #"{"device_id":"rpi-1","nodes_detail":[{"uid":"A","ip":"10.0.0.1<script>"}]}"#,
                #"{"device_id":"rpi-1","voltage":1001}"#,
            ]
            for body in cases {
                let (status, answer, _) = try await host.post("/iot/ping", body)
                #expect(status == .badRequest, "\(body)")
                #expect(answer["error"] is String, "\(body)")
            }
            #expect(try await host.list("/iot/nodes/rpi-1").isEmpty)
            let token = try await host.signIn(TestWallet())
            #expect(try await host.post("/api/v1/iot/device/register", #"{"device_id":"rpi-2","location":"Bangalore\u0000"}"#, token: token).0 == .badRequest)

            func records() async throws -> Int { Fixtures.json(try await host.get("/api/v1/ledger/price-history").1)["total_records"] as? Int ?? -1 }
            let market = try #require(host.runtime.plugins.first { $0.id == "market" })
            try await host.runtime.tick(market)
            let before = try await records()
            for flip in 0..<50 {
                let soc = flip % 2 == 0 ? 10 : 90
                _ = try await host.post("/iot/ping", #"{"device_id":"rpi-1","nodes_detail":[{"uid":"A","voltage":3.9,"soc":\#(soc),"state":"IDLE"}]}"#)
                _ = try await host.get("/api/v1/market/price", token: token)
                try await host.runtime.tick(market) // within the same minute: nothing more is recorded
            }
            #expect(try await records() == before)
            host.clock.advance(61)
            _ = try await host.post("/iot/ping", #"{"device_id":"rpi-1","nodes_detail":[{"uid":"A","voltage":3.9,"soc":55,"state":"IDLE"}]}"#)
            try await host.runtime.tick(market)
            #expect(try await records() == before + 1)
        }
    }
}

/// Issue 14, C15: the public verify re-hashes only what came after the checkpoint; operators
/// re-check everything with `ledger.verify {"full": true}`.
@Suite("ledger verification from a checkpoint")
struct LedgerCheckpointTests {
    @Test func publicVerifyStartsAtTheCheckpointAndAFullCheckFindsOldDamage() async throws {
        // The test moves the checkpoint itself: no background tick may move it too.
        try await DomainHost.with(["ledger"], configure: { $0.periodicWork = false }) { host in
            let wallet = TestWallet()
            for _ in 0..<30 { try await host.mint(wallet.address, lt: 1) }
            func verify() async throws -> [String: Any] { Fixtures.json(try await host.get("/api/v1/ledger/verify").1) }
            let before = try await verify()
            #expect(before["valid"] as? Bool == true && before["entries"] as? Int == 30)
            let (status, body) = try await host.runtime.callService("ledger.verify", json: Data(#"{"full":true}"#.utf8))
            #expect(status == 0 && Fixtures.json(body)["checked_from_seq"] as? Int == 0)
            for _ in 0..<5 { try await host.mint(wallet.address, lt: 1) }
            let incremental = try await verify()
            #expect(incremental["valid"] as? Bool == true)
            #expect(incremental["entries"] as? Int == 35)
            #expect(incremental["checked_from_seq"] as? Int == 30)

            // Damage after the checkpoint is found by anyone; damage before it by the full check.
            try await host.runtime.run("UPDATE ledger_entries SET amount = amount + 1 WHERE seq = 33")
            #expect(try await verify()["broken_seq"] as? Int == 33)
            try await host.runtime.run("UPDATE ledger_entries SET amount = amount - 1 WHERE seq = 33",
                                       "UPDATE ledger_entries SET amount = amount + 1 WHERE seq = 7")
            #expect(try await verify()["valid"] as? Bool == true)
            let full = Fixtures.json(try await host.runtime.callService("ledger.verify", json: Data(#"{"full":true}"#.utf8)).body)
            #expect(full["valid"] as? Bool == false && full["broken_seq"] as? Int == 7)
            // A checkpoint whose entry no longer carries its hash is not trusted: back to a full run.
            try await host.runtime.run("UPDATE ledger_entries SET hash = 'x' WHERE seq = 30")
            let restarted = try await verify()
            #expect(restarted["checked_from_seq"] as? Int == 0 && restarted["valid"] as? Bool == false, "\(restarted)")
        }
    }

    /// The tick moves the checkpoint by at most `verify_entries_per_tick` entries each time.
    @Test func theTickAdvancesTheCheckpointInBoundedSteps() async throws {
        try await DomainHost.with(["ledger"], config: ["ledger": #"{"verify_entries_per_tick":10}"#], configure: { $0.periodicWork = false }) { host in
            let wallet = TestWallet()
            for _ in 0..<25 { try await host.mint(wallet.address, lt: 1) }
            let ledger = try #require(host.runtime.plugins.first { $0.id == "ledger" })
            func from() async throws -> Int? { Fixtures.json(try await host.get("/api/v1/ledger/verify").1)["checked_from_seq"] as? Int }
            var steps: [Int?] = []
            for _ in 0..<4 {
                try await host.runtime.tick(ledger)
                steps.append(try await from())
            }
            #expect(steps == [10, 20, 25, 25])
            #expect(Fixtures.json(try await host.get("/api/v1/ledger/verify").1)["valid"] as? Bool == true)
        }
    }
}
