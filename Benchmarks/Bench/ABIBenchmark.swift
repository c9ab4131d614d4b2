import Foundation
import Logging
import StelltronHost

/// Measures one ABI round trip (host → plugin service → host, small JSON both ways) against a
/// direct Swift call doing the same copies, in the same run. Prints ns per call and the ratio.
enum ABIBenchmark {
    static let iterations = 200_000

    static func run(pluginDirectory: String?) throws {
        let directory = URL(fileURLWithPath: pluginDirectory
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path).standardizedFileURL.path
        var configuration = HostConfiguration(plugins: [.init(id: "probe", library: "\(directory)/libStelltronFixtureProbe.so")])
        configuration.databasePath = ":memory:"
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let runtime = try PluginRuntime(configuration: configuration, logger: logger)
        let payload = Data(#"{"device_id":"rpi-4b-prod-01","kwh":0.5,"soc":72.4}"#.utf8)

        _ = try runtime.measureServiceCalls("probe.echo", json: payload, iterations: 10_000) // warm-up
        var best = Duration.seconds(1000)
        for _ in 0..<5 { best = min(best, try runtime.measureServiceCalls("probe.echo", json: payload, iterations: iterations)) }

        var baseline = Duration.seconds(1000)
        for _ in 0..<5 {
            var sink = 0
            let elapsed = ContinuousClock().measure {
                for _ in 0..<iterations { sink &+= directEcho(payload).count }
            }
            precondition(sink > 0)
            baseline = min(baseline, elapsed)
        }
        let abi = nanoseconds(best) / Double(iterations)
        let direct = nanoseconds(baseline) / Double(iterations)
        print(String(format: "abi_round_trip_ns=%.0f direct_swift_ns=%.0f ratio=%.1f payload_bytes=%d iterations=%d",
                     abi, direct, abi / direct, payload.count, iterations))
    }

    /// The baseline: what the crossing does minus the crossing (copy in, hand over, copy out).
    @inline(never) static func directEcho(_ request: Data) -> Data { Data(request) }

    static func nanoseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1e9 + Double(duration.components.attoseconds) / 1e9
    }
}
