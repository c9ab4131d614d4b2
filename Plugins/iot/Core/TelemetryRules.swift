/// The physical ranges telemetry must fall in (behaviour §6): anything outside is a 400, never
/// stored. Voltages cover a Li-ion cell (≈ 3–4.2 V) up to mains (220–240 V) with room to spare;
/// the quality formulas clamp whatever they get.
public enum TelemetryRules {
    public static let voltageRange = 0.0...1000.0
    public static let percentRange = 0.0...100.0
    /// Node and device states, as the Pi reports them (any case; stored upper-case).
    public static let states: Set<String> = ["IDLE", "CHARGING", "DISCHARGING", "FAULT"]

    public static func isVoltage(_ value: Double) -> Bool { value.isFinite && voltageRange.contains(value) }

    /// What a voltage must be, for the 400 messages: "a number from 0 to 1000".
    public static let voltageRule = "a number from \(Int(voltageRange.lowerBound)) to \(Int(voltageRange.upperBound))"
    public static func isPercent(_ value: Double) -> Bool { value.isFinite && percentRange.contains(value) }

    /// The state upper-cased, or nil when it is not one of `states`.
    public static func state(_ text: String) -> String? {
        let upper = text.uppercased()
        return states.contains(upper) ? upper : nil
    }

    /// An IP address as a Pi reports a node's: at most 45 characters of hex digits, `.` and `:`.
    public static func isAddress(_ text: String) -> Bool {
        (1...45).contains(text.utf8.count) && text.utf8.allSatisfy { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
        }
    }
}
