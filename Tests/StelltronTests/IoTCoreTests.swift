import IoTCore
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
