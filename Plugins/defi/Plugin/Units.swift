import Foundation
import StelltronPluginKit

func lt(_ micro: Int64) -> Double { Double(micro) / 1_000_000 }
func nowMs(_ host: PluginHost) -> Int64 { Int64(host.now().timeIntervalSince1970 * 1000) }
func iso(_ ms: Int64) -> String { Timestamp.iso8601(Date(timeIntervalSince1970: Double(ms) / 1000)) }
