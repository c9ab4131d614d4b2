import Foundation
import StelltronPluginKit

/// Conversions between the API's decimals and the market's integer micro-units.
enum Units {
    static let micro = 1_000_000.0
    /// LT reserved per micro-kWh sold: 1 kWh = 1000 LT, so 1 micro-kWh = 1000 micro-LT.
    static let microLTPerMicroKWh: Int64 = 1_000

    static func toMicro(_ value: Double) -> Int64 { Int64((value * micro).rounded()) }
    static func fromMicro(_ value: Int64) -> Double { Double(value) / micro }

    /// `kwh × price` in micro-units, from micro-kWh and micro-price, rounded to the micro.
    static func tokenAmount(kwh: Int64, price: Int64) -> Int64 {
        Int64((Double(kwh) * Double(price) / micro).rounded())
    }

    /// 2.5 % of a token amount, rounded to the micro.
    static func fee(of amount: Int64) -> Int64 {
        (amount * 25 + 500) / 1000
    }

    /// A UUID (version 4) from the host's random source.
    static func uuid(_ host: PluginHost) throws -> String {
        var bytes = try host.randomBytes(16)
        bytes[6] = (bytes[6] & 0x0f) | 0x40
        bytes[8] = (bytes[8] & 0x3f) | 0x80
        let hex = StelltronKit.Hex.encode(bytes)
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}
