import Foundation

/// Where SwiftPM put the built plugin libraries: `STELLTRON_PLUGIN_DIR` if set, else the folder
/// of the running test executable (`.build/<config>/`), which is where `swift build` writes
/// every `lib<Name>.so` product.
public enum BuildProducts {
    public static var directory: String {
        if let override = ProcessInfo.processInfo.environment["STELLTRON_PLUGIN_DIR"], !override.isEmpty {
            return override
        }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var folder = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // An .xctest bundle on other platforms nests the executable a few levels deep.
        while folder.path.contains(".xctest") { folder.deleteLastPathComponent() }
        return folder.path
    }

    /// The path of `lib<product>.so` in `directory`.
    public static func library(_ product: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent("lib\(product).so").path
    }
}
