import Foundation

// Benchmarks and tools for scripts/bench.sh. Each prints figures on one line; none asserts.
//   stelltron-bench abi [plugin-dir]   ABI round trip vs a direct Swift call
//   stelltron-bench reads [plugin-dir] a one-query read on GRDB's pool vs the calling thread's connection; /iot/nodes and the price through the runtime
//   stelltron-bench routing [plugin-dir] finding a route in the host's whole table vs a router of one route
//   stelltron-bench matching           matching engine throughput, 10 000 vs 100 resting orders
//   stelltron-bench hooks <plugin-dir> <libfactors.so>   libffi hook vs direct C; slot call vs direct Swift
//   stelltron-bench dust [plugin-dir]  one sell crossing 3 000 dust buys, bounded vs unbounded matching
//   stelltron-bench wallet             a fresh wallet's sign-in body (JSON)
//   stelltron-bench bare-http <port>   Hummingbird alone with one constant route (the framework's ceiling)
switch CommandLine.arguments.dropFirst().first {
case "reads": try await ReadBenchmark.run(pluginDirectory: CommandLine.arguments.dropFirst(2).first)
case "abi": try ABIBenchmark.run(pluginDirectory: CommandLine.arguments.dropFirst(2).first)
case "routing": try await RoutingBenchmark.run(pluginDirectory: CommandLine.arguments.dropFirst(2).first)
case "matching": MatchingBenchmark.run()
case "hooks":
    let arguments = Array(CommandLine.arguments.dropFirst(2))
    guard arguments.count == 2 else { FileHandle.standardError.write(Data("usage: stelltron-bench hooks <plugin-dir> <libfactors.so>\n".utf8)); exit(2) }
    try HookBenchmark.run(pluginDirectory: arguments[0], factorsLibrary: arguments[1])
case "dust": try await DustBenchmark.run(pluginDirectory: CommandLine.arguments.dropFirst(2).first)
case "wallet": WalletTool.run()
case "bare-http":
    guard let port = CommandLine.arguments.dropFirst(2).first.flatMap(Int.init) else { FileHandle.standardError.write(Data("usage: stelltron-bench bare-http <port>\n".utf8)); exit(2) }
    try await BareServer.run(port: port)
default:
    FileHandle.standardError.write(Data("usage: stelltron-bench abi [plugin-dir] | reads [plugin-dir] | routing [plugin-dir] | matching | hooks <plugin-dir> <libfactors.so> | dust [plugin-dir] | wallet | bare-http <port>\n".utf8))
    exit(2)
}
