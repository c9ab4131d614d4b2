import Foundation
import IoTCore
import StelltronPluginKit
import Testing

/// The default scheduler, rule by rule, and the energy formulas.
@Suite("iot core")
struct IoTCoreTests {
    private func node(_ uid: String, _ soc: Double, voltage: Double = 3.9, state: String = "IDLE") -> NodeState {
        NodeState(uid: uid, voltage: voltage, soc: soc, state: state)
    }

    private func actions(_ nodes: [NodeState], manual: ManualTransfer? = nil) -> [String] {
        DefaultScheduler.decide(nodes, manual: manual).map(\.action)
    }

    @Test func pairsHighestWithLowest() {
        #expect(actions([node("A", 72.4), node("B", 28.1)]) == ["discharge", "charge"])
        #expect(actions([node("A", 90), node("B", 20), node("C", 80), node("D", 30)]) == ["discharge", "charge", "discharge", "charge"])
    }

    @Test func deadbandGapAndThresholds() {
        #expect(actions([node("A", 55), node("B", 46)]) == ["idle", "idle"])          // spread < 10
        #expect(actions([node("A", 60), node("B", 47)]) == ["idle", "idle"])          // gap 13 < 15
        #expect(actions([node("A", 95), node("B", 75)]) == ["idle", "idle"])          // receiver ≥ 70
        #expect(actions([node("A", 38), node("B", 10)]) == ["idle", "idle"])          // sender ≤ 40
        #expect(DefaultScheduler.decide([node("A", 55), node("B", 50)]).first?.reason == "SoC spread under 10%: no change")
    }

    @Test func faultsAndLowVoltageStayIdle() {
        #expect(actions([node("A", 90, state: "FAULT"), node("B", 10)]) == ["idle", "idle"])
        #expect(actions([node("A", 90, voltage: 3.2), node("B", 10)]) == ["idle", "idle"])
        #expect(actions([node("A", 90, voltage: 3.3), node("B", 10)]) == ["discharge", "charge"])
        #expect(actions([node("A", 90)]) == ["idle"])
    }

    @Test func manualTransferWinsAndOrderIsKept() {
        let nodes = [node("C", 50), node("A", 20), node("B", 90)]
        let commands = DefaultScheduler.decide(nodes, manual: ManualTransfer(sender: "A", receiver: "B"))
        #expect(commands.map(\.node_id) == ["C", "A", "B"])
        #expect(commands.map(\.action) == ["idle", "discharge", "charge"])
        #expect(commands[1].reason == "manual transfer command (discharge)")
    }

    @Test func gridSummary() {
        let nodes = [node("A", 72.4), node("B", 28.1)]
        let summary = GridSummary(nodes: nodes, commands: DefaultScheduler.decide(nodes))
        #expect(summary == GridSummary(nodes: nodes, commands: [
            Command(node_id: "A", action: "discharge", reason: ""), Command(node_id: "B", action: "charge", reason: ""),
        ]))
        #expect(summary.avg_soc == 50.3 && summary.discharging_nodes == 1 && summary.charging_nodes == 1 && summary.idle_nodes == 0)
    }

    @Test func energyFormulas() {
        #expect(EnergyMath.qualityFactor(averageVoltage: nil) == 1.0)
        #expect(EnergyMath.qualityFactor(averageVoltage: 0) == 1.0)
        #expect(abs(EnergyMath.qualityFactor(averageVoltage: 3.92) - (1 + 0.32 / 6)) < 1e-12)
        #expect(EnergyMath.qualityFactor(averageVoltage: 4.3) == 0.85)
        #expect(EnergyMath.qualityFactor(averageVoltage: 3.5) == 0.85)
        #expect(EnergyMath.tokensMinted(kwh: 0.5, quality: 1 + 0.32 / 6) == 526.67)
        #expect(abs(EnergyMath.co2SavedKg(kwh: 0.5) - 0.41) < 1e-12)
        #expect(EnergyMath.voltageStability([3.85]) == 100)
        #expect(EnergyMath.voltageStability([3.5]) == 0)
        #expect(EnergyMath.voltageStability([]) == nil)
    }
}

/// The trust rules as pure functions: the physics bound, the policy, the signature scheme.
@Suite("iot trust core")
struct IoTTrustCoreTests {
    @Test func theEnergyWindowNeverCreditsMoreThanRatingTimesTime() throws {
        // 1 kW for an hour is 1 kWh; a second report without a duration has no time left.
        #expect(try EnergyWindow.check(kwh: 1, durationSeconds: nil, ratedKW: 1, previousEndMs: 0, nowMs: 3_600_000) == 0)
        #expect(throws: EnergyWindow.Refusal.self) { try EnergyWindow.check(kwh: 1.01, durationSeconds: nil, ratedKW: 1, previousEndMs: 0, nowMs: 3_600_000) }
        // A duration reaching back over credited time: refused beyond the 2 s of jitter, clipped within.
        #expect(throws: EnergyWindow.Refusal.overlaps(previousEndMs: 1_000_000)) {
            try EnergyWindow.check(kwh: 0.001, durationSeconds: 10, ratedKW: 10, previousEndMs: 1_000_000, nowMs: 1_005_000)
        }
        #expect(try EnergyWindow.check(kwh: 0.001, durationSeconds: 6, ratedKW: 10, previousEndMs: 1_000_000, nowMs: 1_005_000) == 1_000_000)
        for duration in [0, -1, .nan, .infinity, 86_401] {
            #expect(throws: EnergyWindow.Refusal.badDuration) { try EnergyWindow.check(kwh: 0.001, durationSeconds: duration, ratedKW: 1, previousEndMs: 0, nowMs: 10) }
        }
    }

    @Test func thePolicyReadsItsConfigAndDecidesStanding() throws {
        #expect(try TrustPolicy(config: .object([:])) == TrustPolicy())
        #expect(try TrustPolicy(config: .object(["trust": "open", "operators": .array(["GA"]), "max_rated_kw": 3])).mode == .open)
        for bad: [String: JSONValue] in [["trust": "anything"], ["operators": "GA"], ["max_rated_kw": 0], ["max_rated_kw": "x"]] {
            #expect(throws: PluginError.self) { try TrustPolicy(config: .object(bad)) }
        }
        let fresh = DeviceStanding.Record(deviceID: "d", publicKey: nil, commissionedMs: nil, ratedKW: nil)
        let commissioned = DeviceStanding.Record(deviceID: "d", publicKey: "ab", commissionedMs: 1, ratedKW: 4)
        #expect(TrustPolicy().standing(of: fresh).mayMint == false)
        #expect(TrustPolicy().standing(of: commissioned) == DeviceStanding(mayMint: true, mustSign: true, ratedKW: 4, refusal: nil))
        let open = TrustPolicy(mode: .open, maxRatedKW: 7)
        #expect(open.standing(of: fresh) == DeviceStanding(mayMint: true, mustSign: false, ratedKW: 7, refusal: nil))
    }

    @Test func signaturesBindMethodPathTimestampNonceAndBody() throws {
        let keys = DeviceKeyPair()
        let body = Data(#"{"device_id":"d","kwh_transferred":1}"#.utf8)
        let headers = keys.signPost(method: "POST", path: "/iot/energy/report", body: body, timestamp: 1000, nonce: "nonce-0123456789ab")
        func verify(_ headers: DeviceSignature.Headers, method: String = "POST", path: String = "/iot/energy/report", body: Data = body, now: Int64 = 1000) throws -> String {
            try DeviceSignature.verify(publicKey: keys.publicKey, headers: headers, method: method, path: path,
                                       bodySHA256: DeviceSignature.sha256Hex(body), now: now)
        }
        #expect(try verify(headers) == "nonce-0123456789ab")
        #expect(throws: DeviceSignature.Failure.mismatch) { try verify(headers, method: "PUT") }
        #expect(throws: DeviceSignature.Failure.mismatch) { try verify(headers, path: "/iot/ping") }
        #expect(throws: DeviceSignature.Failure.mismatch) { try verify(headers, body: Data("{}".utf8)) }
        #expect(throws: DeviceSignature.Failure.stale) { try verify(headers, now: 1301) }
        var other = headers
        other.nonce = "nonce-0123456789ac"
        #expect(throws: DeviceSignature.Failure.mismatch) { try verify(other) }
        other.nonce = "short"
        #expect(throws: DeviceSignature.Failure.malformed) { try verify(other) }
        #expect(throws: DeviceSignature.Failure.missing) { try verify(.init(timestamp: nil, nonce: nil, signature: nil)) }
        // The same seed gives the same key: what `issue_key` hands a device is enough to sign.
        let seed = try #require(StelltronKit.Hex.decode(keys.seedHex))
        #expect(DeviceKeyPair(seed: seed).publicKeyHex == keys.publicKeyHex)
        #expect(DeviceSignature.verifyClaim(publicKey: keys.publicKey, signature: keys.signClaim(deviceID: "d", owner: "G1"), deviceID: "d", owner: "G1"))
        #expect(!DeviceSignature.verifyClaim(publicKey: keys.publicKey, signature: keys.signClaim(deviceID: "d", owner: "G1"), deviceID: "d", owner: "G2"))
    }
}
