import Foundation

// Benchmarks and tools for scripts/bench.sh. Each prints figures on one line; none asserts.
//   stelltron-bench abi [plugin-dir]   ABI round trip vs a direct Swift call
//   stelltron-bench matching           matching engine throughput, 10 000 vs 100 resting orders
//   stelltron-bench wallet             a fresh wallet's sign-in body (JSON)
switch CommandLine.arguments.dropFirst().first {
case "abi": try ABIBenchmark.run(pluginDirectory: CommandLine.arguments.dropFirst(2).first)
case "matching": MatchingBenchmark.run()
case "wallet": WalletTool.run()
default:
    FileHandle.standardError.write(Data("usage: stelltron-bench abi [plugin-dir] | matching | wallet\n".utf8))
    exit(2)
}
