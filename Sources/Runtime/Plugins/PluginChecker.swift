import Foundation
import Logging

/// The validator behind `stelltron plugins check`: loads one library in isolation against a
/// scratch host (temporary database), and lists every violation it finds.
public enum PluginChecker {
    public struct Report: Sendable {
        public var file: String
        public var declaration: PluginDeclaration?
        public var tables: [String] = []
        public var violations: [String] = []

        public var passed: Bool { violations.isEmpty }

        /// A human-readable report, one fact per line.
        public var text: String {
            var lines = ["file: \(file)"]
            if let declaration {
                lines.append("id: \(declaration.id)  version: \(declaration.version)  ABI: \(declaration.abiMajor).\(declaration.abiMinor)")
                lines.append("descriptor: \(declaration.descriptorSize) bytes  swift: \(declaration.swiftCompiler.isEmpty ? "(not Swift)" : declaration.swiftCompiler)")
                lines.append("routes: \(declaration.routes.count)")
                for route in declaration.routes {
                    lines.append("  \(route.method) \(route.path) [\(route.isProtected ? "protected" : "public"), \(route.writes ? "write" : "read")]")
                }
                lines.append("services: \(declaration.services.map { $0.name + ($0.writes ? " (write)" : "") }.joined(separator: ", "))")
                lines.append("slots: \(declaration.slots.map { "\($0.name)/\($0.revision)" }.joined(separator: ", "))")
                lines.append("migrations: \(declaration.migrations.map(\.id).joined(separator: ", "))")
                lines.append("tables: \(tables.joined(separator: ", "))")
                if !declaration.subscriptions.isEmpty { lines.append("subscriptions: \(declaration.subscriptions.joined(separator: ", "))") }
            }
            if violations.isEmpty {
                lines.append("OK: no violations")
            } else {
                lines.append("violations: \(violations.count)")
                lines += violations.map { "  - \($0)" }
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Opens a library and reads its descriptor, without loading it into a host.
    public static func declaration(file: String) throws -> PluginDeclaration {
        let library = try PluginLibrary.open(path: file)
        return try DescriptorReader.read(library.descriptor, file: file)
    }

    public static func check(file: String) -> Report {
        let path = URL(fileURLWithPath: file).standardizedFileURL.path
        var report = Report(file: path)
        do {
            let library = try PluginLibrary.open(path: path)
            let declaration = try DescriptorReader.read(library.descriptor, file: path)
            report.declaration = declaration
            var configuration = HostConfiguration(plugins: [.init(id: declaration.id, library: path)])
            configuration.databasePath = ":memory:"
            var logger = Logger(label: "stelltron.check")
            logger.logLevel = .warning
            let runtime = try PluginRuntime(configuration: configuration, logger: logger)
            defer { runtime.shutdown() }
            report.tables = try runtime.store.writeTransactionNow { session in
                try session.tableNames().filter { !$0.hasPrefix("host_") && !$0.hasPrefix("sqlite_") }.sorted()
            }
            for table in report.tables where !table.hasPrefix("\(declaration.id)_") {
                report.violations.append("table '\(table)' is not prefixed with '\(declaration.id)_'")
            }
            var seen = Set<String>()
            for route in declaration.routes where !route.path.hasPrefix("/api/") && !route.path.hasPrefix("/iot/") && !route.path.hasPrefix("/ws/") {
                if seen.insert(route.path).inserted {
                    report.violations.append("route \(route.path) is outside /api/, /iot/ and /ws/")
                }
            }
        } catch let error as PluginLoadError {
            report.violations.append(error.problem)
        } catch {
            report.violations.append(String(describing: error))
        }
        return report
    }
}
