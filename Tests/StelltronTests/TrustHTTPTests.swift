import Foundation
import HTTPTypes
import StelltronHost
import StelltronTesting
import Testing

/// Behaviour §13 over real HTTP: each way LT could be minted from nothing (issue 13's ten
/// exploits) is performed as an attacker would, and fails with balances unchanged and the
/// ledger valid. The shipped trust policy ("commissioned") unless a test says otherwise.
@Suite("trust: nothing mints that no trusted device produced")
struct TrustHTTPTests {
    static let all = ["ledger", "market", "iot", "depin"]

    /// 1. A DePIN heartbeat needs the device's signature: unsigned ones, even for a registered
    /// node, earn nothing; signed ones earn within the device's rating.
    @Test func unsignedHeartbeatsEarnNothing() async throws {
        try await DomainHost.with(Self.all) { host in
            let owner = TestWallet(), node = TestDevice("rpi-node-1")
            let token = try await host.signIn(owner)
            try await host.commission(node, ratedKW: 5, owner: owner.address)
            #expect(try await host.post("/api/v1/depin/register", #"{"device_id":"rpi-node-1"}"#, token: token).0 == .created)
            host.clock.advance(300)
            for _ in 0..<5 {
                let (status, answer, _) = try await host.post("/api/v1/depin/heartbeat", #"{"device_id":"rpi-node-1","kwh_routed":1000}"#)
                #expect(status == .unauthorized)
                #expect(answer["error"] is String)
            }
            #expect(try await host.balance(owner.address) == 0)
            // Signed, 1000 kWh in 300 s is beyond 5 kW; 0.4 kWh is not.
            #expect(try await host.signed(node, "/api/v1/depin/heartbeat", #"{"device_id":"rpi-node-1","kwh_routed":1000}"#).0 == .badRequest)
            let (ok, beat, _) = try await host.signed(node, "/api/v1/depin/heartbeat", #"{"device_id":"rpi-node-1","kwh_routed":0.4}"#)
            #expect(ok == .ok)
            #expect(beat["credited_seconds"] as? Double == 300)
            let expected = (10.0 * 300 / 86_400 * 1e6).rounded(.down) / 1e6 + 0.4
            #expect(abs(try await host.balance(owner.address) - expected) < 1e-9)
            #expect(try await host.verified())
        }
    }

    /// 2. New DePIN ids are not free LT: only commissioned devices register, and the bonus is paid
    /// once per device, after a day of credited uptime.
    @Test func theOnboardingBonusCannotBeFarmed() async throws {
        try await DomainHost.with(Self.all) { host in
            let farmer = TestWallet()
            let token = try await host.signIn(farmer)
            for n in 1...5 {
                #expect(try await host.post("/api/v1/iot/device/register", #"{"device_id":"fake-\#(n)"}"#, token: token).0 == .created)
                let (status, answer, _) = try await host.post("/api/v1/depin/register", #"{"device_id":"fake-\#(n)"}"#, token: token)
                #expect(status == .forbidden)
                #expect((answer["error"] as? String)?.contains("not commissioned") == true)
            }
            #expect(try await host.balance(farmer.address) == 0)

            let node = TestDevice("rpi-node-2")
            try await host.commission(node, ratedKW: 1, owner: farmer.address)
            let (created, registered, _) = try await host.post("/api/v1/depin/register", #"{"device_id":"rpi-node-2"}"#, token: token)
            #expect(created == .created)
            #expect(registered["bonus_pending"] as? Double == 100)
            #expect(try await host.balance(farmer.address) == 0)
            var bonuses = 0.0
            for _ in 0..<146 { // 24 h 20 min of heartbeats every 10 minutes
                host.clock.advance(600)
                let (status, beat, _) = try await host.signed(node, "/api/v1/depin/heartbeat", #"{"device_id":"rpi-node-2"}"#)
                #expect(status == .ok)
                bonuses += beat["bonus_paid"] as? Double ?? 0
            }
            #expect(bonuses == 100)
            let uptime = (10.0 * 600 / 86_400 * 1e6).rounded(.down) / 1e6 * 146
            #expect(abs(try await host.balance(farmer.address) - (100 + uptime)) < 1e-6)
            #expect(try await host.verified())
        }
    }

    /// 3. A report lists for sale only what it minted: a quality under 1 and a waiting buyer never
    /// take LT the owner held before — in open trust, where anyone may report for an unkeyed device.
    @Test func aReportNeverTakesWhatTheOwnerHeld() async throws {
        try await DomainHost.with(Self.all, config: ["iot": #"{"trust":"open"}"#]) { host in
            let victim = TestWallet(), attacker = TestWallet()
            let token = try await host.signIn(victim), attackerToken = try await host.signIn(attacker)
            #expect(try await host.post("/api/v1/iot/device/register", #"{"device_id":"rpi-victim"}"#, token: token).0 == .created)
            try await host.mint(victim.address, lt: 5000)
            #expect(try await host.post("/api/v1/market/order/create", #"{"type":"buy","kwh_amount":100,"token_price":1000}"#, token: attackerToken).0 == .created)
            for _ in 0..<3 {
                host.clock.advance(600)
                let (status, answer, _) = try await host.post("/iot/energy/report", #"{"device_id":"rpi-victim","kwh_transferred":1.5,"avg_voltage":1.0}"#)
                #expect(status == .ok)
                #expect(answer["tokens_minted"] as? Double == 1275)
            }
            // Everything minted (3 × 1275 LT) was listed and bought; the 5000 LT are untouched.
            #expect(try await host.balance(victim.address) == 5000)
            #expect(try await host.verified())
        }
        // In the shipped configuration such a report is refused outright.
        try await DomainHost.with(Self.all) { host in
            let victim = TestWallet()
            let token = try await host.signIn(victim)
            #expect(try await host.post("/api/v1/iot/device/register", #"{"device_id":"rpi-victim"}"#, token: token).0 == .created)
            try await host.mint(victim.address, lt: 5000)
            host.clock.advance(600)
            #expect(try await host.post("/iot/energy/report", #"{"device_id":"rpi-victim","kwh_transferred":1.5,"avg_voltage":1.0}"#).0 == .forbidden)
            #expect(try await host.balance(victim.address) == 5000)
            #expect(try await host.totalMinted() == 5000)
            #expect(try await host.verified())
        }
    }

    /// 4 and 5. A signed post is single-use, bound to its route and to its body.
    @Test func signedPostsCannotBeReplayedRetargetedOrAltered() async throws {
        try await DomainHost.with(Self.all) { host in
            let owner = TestWallet(), pi = TestDevice("rpi-signed")
            let token = try await host.signIn(owner)
            try await host.commission(pi, ratedKW: 10)
            #expect(try await host.claim(pi, owner: owner, token: token) == .created)
            #expect(try await host.post("/api/v1/depin/register", #"{"device_id":"rpi-signed"}"#, token: token).0 == .created)
            host.clock.advance(3600)
            let report = #"{"device_id":"rpi-signed","kwh_transferred":0.5}"#
            let headers = pi.headers("/iot/energy/report", report, at: host.clock.now)
            #expect(try await host.post("/iot/energy/report", report, headers: headers).0 == .ok)
            let minted = try await host.totalMinted()
            for _ in 0..<3 {
                let (status, answer, _) = try await host.post("/iot/energy/report", report, headers: headers)
                #expect(status == .unauthorized)
                #expect((answer["error"] as? String)?.contains("replayed") == true)
            }
            // Signed for another route (or method), or with the body changed: refused.
            let ping = pi.headers("/iot/ping", report, at: host.clock.now)
            #expect(try await host.post("/iot/energy/report", report, headers: ping).0 == .unauthorized)
            let beat = #"{"device_id":"rpi-signed"}"#
            let forHeartbeat = pi.headers("/api/v1/depin/heartbeat", beat, at: host.clock.now)
            #expect(try await host.post("/iot/transfer/stop", beat, headers: forHeartbeat).0 == .ok) // telemetry ignores it
            #expect(try await host.post("/api/v1/depin/heartbeat", beat, headers: forHeartbeat).0 == .ok)
            #expect(try await host.post("/api/v1/depin/heartbeat", beat, headers: forHeartbeat).0 == .unauthorized)
            let altered = #"{"device_id":"rpi-signed","kwh_transferred":5.0}"#
            #expect(try await host.post("/iot/energy/report", altered, headers: pi.headers("/iot/energy/report", report, at: host.clock.now)).0 == .unauthorized)
            #expect(try await host.totalMinted() == minted)
            #expect(try await host.verified())
        }
    }

    /// 6. What a device mints over any window is bounded by its rating × the time elapsed.
    @Test func issuanceIsBoundedByRatedPower() async throws {
        try await DomainHost.with(Self.all) { host in
            let owner = TestWallet(), pi = TestDevice("rpi-rated")
            _ = try await host.signIn(owner)
            try await host.commission(pi, ratedKW: 6, owner: owner.address)
            func report(_ kwh: Double, duration: Int? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
                let field = duration.map { #","duration_seconds":\#($0)"# } ?? ""
                let (status, answer, _) = try await host.signed(pi, "/iot/energy/report", #"{"device_id":"rpi-rated","kwh_transferred":\#(kwh)\#(field)}"#)
                return (status, answer)
            }
            // Right after commissioning nothing has been produced yet.
            #expect(try await report(0.001).0 == .badRequest)
            host.clock.advance(600) // 10 minutes at 6 kW: 1 kWh at most
            for _ in 0..<5 {
                let (status, answer) = try await report(10)
                #expect(status == .badRequest)
                #expect((answer["error"] as? String)?.contains("exceeds the 6 kW rating") == true)
            }
            #expect(try await report(0.6, duration: 360).0 == .ok)     // 0.6 kWh in 6 minutes at 6 kW
            #expect(try await report(0.1, duration: 60).0 == .conflict) // overlaps the 6 minutes just credited
            host.clock.advance(60)
            #expect(try await report(0.1).0 == .ok)                    // 0.1 kWh in the 60 s since
            #expect(try await report(0.1).0 == .badRequest)            // and no more in no time
            #expect(try await host.totalMinted() == 700)
            // Rating above the operator's maximum: refused at commissioning.
            let (status, _) = try await host.runtime.callService("iot.commission", json: Data(#"{"device_id":"big","public_key":"\#(pi.publicKey)","rated_kw":11}"#.utf8))
            #expect(status != 0)
            #expect(try await host.verified())
        }
    }

    /// 7. A ping never makes a device claimable, and nobody can lock the real Pi out.
    @Test func aPingNeverMakesADeviceClaimable() async throws {
        try await DomainHost.with(Self.all) { host in
            let attacker = TestWallet(), owner = TestWallet(), pi = TestDevice("rpi-field")
            let attackerToken = try await host.signIn(attacker), token = try await host.signIn(owner)
            #expect(try await host.post("/iot/ping", #"{"device_id":"rpi-field","status":"heartbeat"}"#).0 == .ok)
            let squatter = TestDevice("rpi-field")
            for body in [#"{"device_id":"rpi-field"}"#, #"{"device_id":"rpi-field","issue_key":true}"#,
                         #"{"device_id":"rpi-field","public_key":"\#(squatter.publicKey)","claim_signature":"\#(squatter.claim(by: attacker.address))"}"#] {
                let (status, answer, _) = try await host.post("/api/v1/iot/device/register", body, token: attackerToken)
                #expect(status == .forbidden, "\(body)")
                #expect(answer["error"] is String)
            }
            #expect(try await host.list("/api/v1/iot/devices", token: attackerToken).isEmpty)
            #expect(try await host.post("/iot/ping", #"{"device_id":"rpi-field","status":"heartbeat"}"#).0 == .ok)
            // Once the operator binds the Pi's own key, only a claim the Pi signed for a user works.
            try await host.commission(pi, ratedKW: 5)
            #expect(try await host.post("/api/v1/iot/device/register", #"{"device_id":"rpi-field","claim_signature":"\#(squatter.claim(by: attacker.address))"}"#, token: attackerToken).0 == .unauthorized)
            #expect(try await host.post("/api/v1/iot/device/register", #"{"device_id":"rpi-field","claim_signature":"\#(pi.claim(by: owner.address))"}"#, token: attackerToken).0 == .unauthorized)
            #expect(try await host.claim(pi, owner: owner, token: token) == .created)
            #expect(try await host.post("/iot/ping", #"{"device_id":"rpi-field","status":"heartbeat"}"#).0 == .ok)
            #expect(try await host.balance(attacker.address) == 0)
            #expect(try await host.totalMinted() == 0)
            #expect(try await host.verified())
        }
    }

    /// 8. DePIN registration follows IoT ownership: another user cannot collect my device's rewards.
    @Test func depinRegistrationNeedsIoTOwnership() async throws {
        try await DomainHost.with(Self.all) { host in
            let owner = TestWallet(), thief = TestWallet(), pi = TestDevice("rpi-mine")
            let token = try await host.signIn(owner), thiefToken = try await host.signIn(thief)
            try await host.commission(pi, ratedKW: 5, owner: owner.address)
            let (status, answer, _) = try await host.post("/api/v1/depin/register", #"{"device_id":"rpi-mine","operator_wallet":"\#(thief.address)"}"#, token: thiefToken)
            #expect(status == .forbidden)
            #expect((answer["error"] as? String)?.contains("not yours") == true)
            #expect(try await host.post("/api/v1/depin/register", #"{"device_id":"unknown-device"}"#, token: thiefToken).0 == .notFound)
            #expect(try await host.post("/api/v1/depin/register", #"{"device_id":"rpi-mine"}"#, token: token).0 == .created)
            #expect(try await host.balance(thief.address) == 0)
            // Re-commissioned to another household, the old DePIN operator stops earning.
            try await host.commission(pi, ratedKW: 5, owner: thief.address)
            host.clock.advance(300)
            #expect(try await host.signed(pi, "/api/v1/depin/heartbeat", #"{"device_id":"rpi-mine"}"#).0 == .forbidden)
            #expect(try await host.balance(owner.address) == 0)
            #expect(try await host.balance(thief.address) == 0)
            #expect(try await host.verified())
        }
    }

    /// 9. The host keeps public keys only, and its database is readable by its own user only.
    @Test func noSecretIsStoredAndTheDatabaseIsPrivate() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("stelltron-trust-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = Fixtures.configuration([
            .init(id: "ledger", library: BuildProducts.library("StelltronLedger")),
            .init(id: "iot", library: BuildProducts.library("StelltronIoT")),
        ])
        configuration.databasePath = folder.appendingPathComponent("data/stelltron.sqlite").path
        let runtime = try Fixtures.runtime(configuration)
        let (status, body) = try await runtime.callService("iot.commission", json: Data(#"{"device_id":"rpi-x","public_key":"\#(TestDevice("rpi-x").publicKey)","rated_kw":1}"#.utf8))
        #expect(status == 0, "\(String(decoding: body, as: UTF8.self))")
        let columns = try await runtime.rows("SELECT name FROM pragma_table_info('iot_devices')").compactMap { $0["name"]?.stringValue }
        #expect(!columns.contains("device_key"))
        for suffix in ["", "-wal", "-shm"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: configuration.databasePath + suffix)
            #expect((attributes[.posixPermissions] as? Int ?? 0) & 0o777 == 0o600, "stelltron.sqlite\(suffix)")
        }
        runtime.shutdown()
    }

    /// 9 (over HTTP). An issued key's secret is in the answer once and nowhere in the database.
    @Test func anIssuedSecretNeverReachesTheDatabase() async throws {
        try await DomainHost.with(Self.all, config: ["iot": #"{"trust":"open"}"#]) { host in
            let token = try await host.signIn(TestWallet())
            let (_, device, _) = try await host.post("/api/v1/iot/device/register", #"{"device_id":"rpi-issued","issue_key":true}"#, token: token)
            let seed = try #require(device["device_key"] as? String)
            let dump = try await host.runtime.rows("SELECT COALESCE(public_key, '') || owner_id || device_id AS row FROM iot_devices")
                .compactMap { $0["row"]?.stringValue }.joined()
            #expect(dump.contains(try #require(device["public_key"] as? String)))
            #expect(!dump.contains(seed))
        }
    }

    /// 10. Dust cannot stall the writer: a minimum order, a cap on open orders, and matching
    /// bounded per request (the tick matches the rest).
    @Test func dustIsRefusedAndMatchingIsBounded() async throws {
        try await DomainHost.with(["ledger", "market"], config: ["market": #"{"max_open_orders_per_user":20,"max_fills_per_request":25}"#]) { host in
            let seller = TestWallet()
            let sellerToken = try await host.signIn(seller)
            try await host.mint(seller.address, lt: 10_000)
            let (dust, answer, _) = try await host.post("/api/v1/market/order/create", #"{"type":"buy","kwh_amount":0.000001,"token_price":5}"#, token: sellerToken)
            #expect(dust == .badRequest && answer["error"] is String)
            var buyers: [String] = []
            for _ in 0..<3 { buyers.append(try await host.signIn(TestWallet())) }
            for token in buyers {
                for _ in 0..<20 {
                    #expect(try await host.post("/api/v1/market/order/create", #"{"type":"buy","kwh_amount":0.001,"token_price":5}"#, token: token).0 == .created)
                }
                #expect(try await host.post("/api/v1/market/order/create", #"{"type":"buy","kwh_amount":0.001,"token_price":5}"#, token: token).0 == .conflict)
            }
            let (placed, sell, _) = try await host.post("/api/v1/market/order/create", #"{"type":"sell","kwh_amount":1,"token_price":5}"#, token: sellerToken)
            #expect(placed == .created)
            #expect((sell["trades"] as? [Any])?.count == 25)
            let market = try #require(host.runtime.plugins.first { $0.id == "market" })
            try await host.runtime.tick(market)
            try await host.runtime.tick(market)
            let left = try await host.list("/api/v1/market/orders", token: sellerToken)
            #expect(left.filter { $0["type"] as? String == "buy" }.isEmpty)
            #expect(left.first { $0["type"] as? String == "sell" }?["kwh_amount"] as? Double == 0.94)
            #expect(try await host.verified())
        }
    }

    /// The operator routes: only wallets listed in plugins.conf commission or decommission, and
    /// a decommissioned device stops minting.
    @Test func onlyOperatorsCommissionAndDecommissioningStopsMinting() async throws {
        let operatorWallet = TestWallet()
        try await DomainHost.with(Self.all, config: ["iot": #"{"operators":["\#(operatorWallet.address)"],"max_rated_kw":3}"#]) { host in
            let owner = TestWallet(), pi = TestDevice("rpi-op")
            let token = try await host.signIn(owner), operatorToken = try await host.signIn(operatorWallet)
            let body = #"{"device_id":"rpi-op","public_key":"\#(pi.publicKey)","rated_kw":3,"owner_id":"\#(owner.address)"}"#
            #expect(try await host.post("/api/v1/iot/device/commission", body, token: token).0 == .forbidden)
            #expect(try await host.post("/api/v1/iot/device/commission", body.replacingOccurrences(of: #""rated_kw":3"#, with: #""rated_kw":4"#), token: operatorToken).0 == .badRequest)
            #expect(try await host.post("/api/v1/iot/device/commission", body, token: operatorToken).0 == .ok)
            host.clock.advance(1200)
            #expect(try await host.signed(pi, "/iot/energy/report", #"{"device_id":"rpi-op","kwh_transferred":0.5}"#).0 == .ok)
            let renewed = try await host.signIn(operatorWallet)
            #expect(try await host.post("/api/v1/iot/device/decommission", #"{"device_id":"rpi-op"}"#, token: renewed).0 == .ok)
            host.clock.advance(1200)
            #expect(try await host.signed(pi, "/iot/energy/report", #"{"device_id":"rpi-op","kwh_transferred":0.5}"#).0 == .forbidden)
            #expect(try await host.totalMinted() == 500)
            #expect(try await host.verified())
        }
    }

    /// Concurrency: twenty copies of one signed report at once mint exactly once.
    @Test func twentyConcurrentCopiesOfOneSignedReportMintOnce() async throws {
        try await DomainHost.with(Self.all) { host in
            let owner = TestWallet(), pi = TestDevice("rpi-race")
            _ = try await host.signIn(owner)
            try await host.commission(pi, ratedKW: 10, owner: owner.address)
            host.clock.advance(3600)
            let report = #"{"device_id":"rpi-race","kwh_transferred":1}"#
            let headers = pi.headers("/iot/energy/report", report, at: host.clock.now)
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<20 { group.addTask { try await host.post("/iot/energy/report", report, headers: headers).0 } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == .ok }.count == 1)
            #expect(statuses.filter { $0 == .unauthorized }.count == 19)
            #expect(try await host.totalMinted() == 1000)
            #expect(try await host.verified())
        }
    }
}
