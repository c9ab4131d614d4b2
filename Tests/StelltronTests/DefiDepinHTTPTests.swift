import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StelltronHost
import StelltronTesting
import Testing

/// DeFi and DePIN with the ledger, over real HTTP with real sign-in, and the concurrency cases
/// where money could be paid twice.
@Suite("defi and depin over HTTP")
struct DefiDepinHTTPTests {
    struct Client: Sendable {
        let http: any TestClientProtocol
        let runtime: PluginRuntime
        let clock: TestClock

        func post(_ uri: String, _ body: String, token: String? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
            let headers: HTTPFields = token.map { [.authorization: "Bearer \($0)"] } ?? [:]
            let response = try await http.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
            return (response.status, Fixtures.json(Data(response.body.readableBytesView)))
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

        func mint(_ account: String, lt: Int) async throws {
            #expect(try await runtime.callService("ledger.mint", json: Data(#"{"account":"\#(account)","amount_micro":\#(lt * 1_000_000),"reason":"test"}"#.utf8)).status == 0)
        }

        func balance(_ account: String) async throws -> Double {
            Fixtures.json(try await runtime.callService("ledger.balance", json: Data(#"{"account":"\#(account)"}"#.utf8)).body)["balance"] as? Double ?? -1
        }

        func verified() async throws -> Bool {
            Fixtures.json(try await get("/api/v1/ledger/verify").1)["valid"] as? Bool == true
        }
    }

    private func with(_ body: @escaping @Sendable (Client) async throws -> Void) async throws {
        let clock = TestClock()
        let configuration = Fixtures.configuration([
            .init(id: "ledger", library: BuildProducts.library("StelltronLedger")),
            .init(id: "iot", library: BuildProducts.library("StelltronIoT")),
            .init(id: "defi", library: BuildProducts.library("StelltronDefi")),
            .init(id: "depin", library: BuildProducts.library("StelltronDepin")),
        ])
        let runtime = try Fixtures.runtime(configuration, clock: clock)
        try await buildApplication(runtime: runtime, port: 0).test(.router) { http in
            try await body(Client(http: http, runtime: runtime, clock: clock))
        }
    }

    @Test func stakeEarnsSimpleInterestOnce() async throws {
        try await with { client in
            let alice = TestWallet(), bob = TestWallet()
            let token = try await client.signIn(alice), bobToken = try await client.signIn(bob)
            #expect(try await client.post("/api/v1/defi/pool/stake", #"{"amount":1000}"#, token: token).0 == .badRequest)
            try await client.mint(alice.address, lt: 1000)
            #expect(try await client.post("/api/v1/defi/pool/stake", #"{"user_id":"\#(bob.address)","amount":10}"#, token: token).0 == .forbidden)
            let (created, stake) = try await client.post("/api/v1/defi/pool/stake", #"{"user_id":"\#(alice.address)","amount":1000}"#, token: token)
            #expect(created == .created)
            #expect(stake["apy"] as? Double == 8.5)
            #expect(try await client.balance(alice.address) == 0)
            let stats = Fixtures.json(try await client.get("/api/v1/defi/pool/stats", token: token).1)
            #expect(stats["total_staked"] as? Double == 1000 && stats["active_stakers"] as? Int == 1 && stats["pool_utilization"] as? Double == 0)

            let id = try #require(stake["stake_id"] as? Int)
            #expect(try await client.post("/api/v1/defi/pool/unstake", #"{"stake_id":\#(id)}"#, token: bobToken).0 == .forbidden)
            #expect(try await client.post("/api/v1/defi/pool/unstake", #"{"stake_id":999}"#, token: token).0 == .notFound)
            client.clock.advance(876 * 3600)
            let fresh = try await client.signIn(alice) // access tokens last 15 minutes of the moved clock
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<20 { group.addTask { try await client.post("/api/v1/defi/pool/unstake", #"{"stake_id":\#(id)}"#, token: fresh).0 } }
                var all: [HTTPResponse.Status] = []
                for try await status in group { all.append(status) }
                return all
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.filter { $0 == .conflict }.count == 19)
            #expect(try await client.balance(alice.address) == 1008.5)
            let history = try JSONSerialization.jsonObject(with: try await client.get("/api/v1/defi/yield/history", token: fresh).1) as? [[String: Any]]
            #expect(history?.count == 1 && history?.first?["yield"] as? Double == 8.5)
            #expect(try await client.verified())
        }
    }

    @Test func parallelStakesNeverOverdraw() async throws {
        try await with { client in
            let alice = TestWallet()
            let token = try await client.signIn(alice)
            try await client.mint(alice.address, lt: 100)
            let created = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<20 { group.addTask { try await client.post("/api/v1/defi/pool/stake", #"{"amount":10}"#, token: token).0 } }
                var all: [HTTPResponse.Status] = []
                for try await status in group { all.append(status) }
                return all
            }
            #expect(created.filter { $0 == .created }.count == 10)
            #expect(created.filter { $0 == .badRequest }.count == 10)
            #expect(try await client.balance(alice.address) == 0)
            #expect(try await client.balance("pool") == 100)
            #expect(try await client.verified())
        }
    }

    @Test func flashLoanRepaidOnceOrLiquidated() async throws {
        try await with { client in
            let staker = TestWallet(), borrower = TestWallet(), other = TestWallet()
            let stakerToken = try await client.signIn(staker), token = try await client.signIn(borrower), otherToken = try await client.signIn(other)
            try await client.mint(staker.address, lt: 10_000)
            try await client.mint(borrower.address, lt: 10_000)
            _ = try await client.post("/api/v1/defi/pool/stake", #"{"amount":10000}"#, token: stakerToken)
            #expect(try await client.post("/api/v1/defi/flash-loan", #"{"kwh_borrowed":9,"token_collateral":20000}"#, token: token).0 == .badRequest)
            #expect(try await client.post("/api/v1/defi/flash-loan", #"{"kwh_borrowed":5,"token_collateral":7000}"#, token: token).0 == .badRequest)
            #expect(try await client.post("/api/v1/defi/flash-loan", #"{"borrower_id":"\#(other.address)","kwh_borrowed":5,"token_collateral":7500}"#, token: token).0 == .forbidden)
            let (created, loan) = try await client.post("/api/v1/defi/flash-loan", #"{"kwh_borrowed":5,"token_collateral":7500}"#, token: token)
            #expect(created == .created)
            #expect(loan["tokens_borrowed"] as? Double == 5000 && loan["fee"] as? Double == 15)
            #expect(try await client.balance(borrower.address) == 7500)
            #expect(Fixtures.json(try await client.get("/api/v1/defi/pool/stats", token: token).1)["pool_utilization"] as? Double == 0.5)

            let id = try #require(loan["loan_id"] as? Int)
            #expect(try await client.post("/api/v1/defi/flash-loan/repay", #"{"loan_id":\#(id)}"#, token: otherToken).0 == .forbidden)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<20 { group.addTask { try await client.post("/api/v1/defi/flash-loan/repay", #"{"loan_id":\#(id)}"#, token: token).0 } }
                var all: [HTTPResponse.Status] = []
                for try await status in group { all.append(status) }
                return all
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(try await client.balance(borrower.address) == 9985)
            #expect(try await client.balance("pool") == 10_015)

            // A second loan left unpaid: the sweep gives its collateral to the pool.
            let (_, late) = try await client.post("/api/v1/defi/flash-loan", #"{"kwh_borrowed":1,"token_collateral":1500}"#, token: token)
            let lateID = try #require(late["loan_id"] as? Int)
            client.clock.advance(301)
            let defi = try #require(client.runtime.plugins.first { $0.id == "defi" })
            try await client.runtime.tick(defi)
            #expect(try await client.post("/api/v1/defi/flash-loan/repay", #"{"loan_id":\#(lateID)}"#, token: token).0 == .conflict)
            #expect(try await client.balance("pool") == 10_015 - 1_000 + 1_500)
            #expect(try await client.balance(borrower.address) == 9985 + 1000 - 1500)
            #expect(try await client.verified())
        }
    }

    @Test func depinRegistrationHeartbeatsAndNetworkNodes() async throws {
        try await with { client in
            let operator_ = TestWallet(), other = TestWallet()
            let token = try await client.signIn(operator_)
            let node = TestDevice("rpi-4b-prod-01")
            let commission = #"{"device_id":"rpi-4b-prod-01","public_key":"\#(node.publicKey)","rated_kw":5,"owner_id":"\#(operator_.address)"}"#
            #expect(try await client.runtime.callService("iot.commission", json: Data(commission.utf8)).status == 0)
            let body = #"{"device_id":"rpi-4b-prod-01","operator_wallet":"\#(operator_.address)","hardware_type":"rpi4b","firmware_version":"1.2.0"}"#
            #expect(try await client.post("/api/v1/depin/register", body).0 == .unauthorized)
            #expect(try await client.post("/api/v1/depin/register", #"{"device_id":"x","operator_wallet":"\#(other.address)"}"#, token: token).0 == .forbidden)
            let (created, fresh) = try await client.post("/api/v1/depin/register", body, token: token)
            #expect(created == .created)
            #expect(fresh["reliability"] as? Double == 100)
            #expect(try await client.balance(operator_.address) == 0) // the bonus vests after a day of uptime
            #expect(try await client.post("/api/v1/depin/register", body, token: token).0 == .conflict)

            func beat(_ body: String) async throws -> (HTTPResponse.Status, [String: Any]) {
                let headers = node.headers("/api/v1/depin/heartbeat", body, at: client.clock.now)
                let response = try await client.http.execute(uri: "/api/v1/depin/heartbeat", method: .post, headers: headers, body: ByteBuffer(string: body))
                return (response.status, Fixtures.json(Data(response.body.readableBytesView)))
            }
            #expect(try await client.post("/api/v1/depin/heartbeat", #"{"device_id":"nope","kwh_routed":1}"#).0 == .notFound)
            #expect(try await beat(#"{"device_id":"rpi-4b-prod-01","kwh_routed":-1}"#).0 == .badRequest)
            client.clock.advance(300)
            let (_, first) = try await beat(#"{"device_id":"rpi-4b-prod-01","kwh_routed":0.4}"#)
            #expect(first["credited_seconds"] as? Double == 300)
            #expect(first["reliability"] as? Double == 100)
            let expected = (10.0 * 300 / 86_400 * 1e6).rounded(.down) / 1e6 + 0.4
            #expect(abs(try await client.balance(operator_.address) - expected) < 1e-9)
            // An hour of silence earns nothing and lowers reliability.
            client.clock.advance(3600)
            let (_, silent) = try await beat(#"{"device_id":"rpi-4b-prod-01"}"#)
            #expect(silent["credited_seconds"] as? Double == 0 && silent["reward"] as? Double == 0)
            #expect(abs((silent["reliability"] as? Double ?? 0) - 7.69) < 0.01)
            let stats = Fixtures.json(try await client.get("/api/v1/depin/stats").1)
            #expect(stats["total_nodes"] as? Int == 1 && stats["network_health"] as? String == "critical")
            let renewed = try await client.signIn(operator_) // the first token expired with the moved clock

            let (registered, networkNode) = try await client.post("/api/v1/network/node/register", #"{"location":"Bangalore, India"}"#, token: renewed)
            #expect(registered == .created)
            #expect(networkNode["role"] as? String == "NetworkNodeOperator")
            #expect(Fixtures.json(try await client.get("/api/v1/auth/me", token: renewed).1)["role"] as? String == "NetworkNodeOperator")
            #expect(try await client.get("/api/v1/network/nodes").0 == .unauthorized)
            let nodes = try JSONSerialization.jsonObject(with: try await client.get("/api/v1/network/nodes", token: renewed).1) as? [[String: Any]]
            #expect(nodes?.first?["location"] as? String == "Bangalore, India")
            #expect(try await client.verified())
        }
    }
}
