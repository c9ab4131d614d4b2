import Foundation
import IoTCore
import Logging
import StelltronHost

/// Two costs an operator pays for swapping logic without a rebuild, each beside its baseline in
/// the same run: a foreign hook called through libffi vs a direct C call of the same function,
/// and a `scheduler` slot call through the ABI vs calling the default scheduler directly.
enum HookBenchmark {
    static func run(pluginDirectory: String, factorsLibrary: String) throws {
        // The market declares the pricing.* hook points (ABI 1.1); the ledger is what it needs.
        var configuration = HostConfiguration(plugins: [
            .init(id: "ledger", library: "\(pluginDirectory)/libStelltronLedger.so"),
            .init(id: "market", library: "\(pluginDirectory)/libStelltronMarket.so"),
            .init(id: "iot", library: "\(pluginDirectory)/libStelltronIoT.so"),
        ])
        configuration.databasePath = ":memory:"
        configuration.hooks = [HookBinding(name: "pricing.f_time", library: factorsLibrary, symbol: "f_time", signature: "double(int32)")]
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let runtime = try PluginRuntime(configuration: configuration, logger: logger)
        guard let hook = runtime.hooks["pricing.f_time"], let handle = dlopen(factorsLibrary, RTLD_NOW), let symbol = dlsym(handle, "f_time") else {
            throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "cannot load \(factorsLibrary)"])
        }
        let direct = unsafeBitCast(symbol, to: (@convention(c) (Int32) -> Double).self)
        let calls = 1_000_000
        var sink = 0.0
        let viaFFI = best { for hour in 0..<calls { sink += (try? hook.call([Double(hour % 24)])) ?? 0 } }
        let viaC = best { for hour in 0..<calls { sink += direct(Int32(hour % 24)) } }
        precondition(sink > 0)
        print(String(format: "hook_libffi_ns=%.1f direct_c_ns=%.1f ratio=%.1f calls=%d",
                     nanoseconds(viaFFI) / Double(calls), nanoseconds(viaC) / Double(calls), nanoseconds(viaFFI) / nanoseconds(viaC), calls))

        let nodes = [NodeState(uid: "A", voltage: 3.92, soc: 72.4, state: "IDLE"), NodeState(uid: "B", voltage: 3.61, soc: 28.1, state: "IDLE"),
                     NodeState(uid: "C", voltage: 3.8, soc: 50, state: "IDLE")]
        let request = Data(#"{"device_id":"rpi-1","nodes":[{"uid":"A","voltage":3.92,"soc":72.4,"state":"IDLE"},{"uid":"B","voltage":3.61,"soc":28.1,"state":"IDLE"},{"uid":"C","voltage":3.8,"soc":50,"state":"IDLE"}]}"#.utf8)
        let slotCalls = 50_000
        var slot = Duration.seconds(1000)
        for _ in 0..<3 { slot = min(slot, try runtime.measureServiceCalls("scheduler.decide", json: request, iterations: slotCalls)) }
        var decided = 0
        let swift = best { for _ in 0..<slotCalls { decided += DefaultScheduler.decide(nodes).count } }
        precondition(decided > 0)
        print(String(format: "slot_call_through_abi_us=%.2f direct_swift_us=%.3f ratio=%.0f calls=%d",
                     nanoseconds(slot) / Double(slotCalls) / 1000, nanoseconds(swift) / Double(slotCalls) / 1000,
                     nanoseconds(slot) / nanoseconds(swift), slotCalls))
    }

    private static func best(_ body: () -> Void) -> Duration {
        (0..<3).map { _ in ContinuousClock().measure(body) }.min()!
    }

    private static func nanoseconds(_ duration: Duration) -> Double { ABIBenchmark.nanoseconds(duration) }
}
