import CStelltronPluginAPI
import Foundation

/// An opened plugin library and the descriptor its entry symbol returned.
///
/// Libraries are opened with RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE and never closed: the Swift
/// runtime keeps pointers into every loaded image, so unloading one would crash a later type check.
/// A new build of a plugin therefore loads only under a new file name.
// Sendable: the descriptor it points to is static and read-only by contract.
struct PluginLibrary: @unchecked Sendable {
    let path: String
    let descriptor: UnsafePointer<stl_plugin_descriptor>

    static func open(path: String) throws -> PluginLibrary {
        guard FileManager.default.fileExists(atPath: path) else {
            throw PluginLoadError(file: path, "file not found")
        }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown reason"
            throw PluginLoadError(file: path, "cannot be loaded: \(reason)")
        }
        guard let symbol = dlsym(handle, STL_ENTRY_SYMBOL) else {
            throw PluginLoadError(file: path, "missing entry symbol \(STL_ENTRY_SYMBOL)")
        }
        let entry = unsafeBitCast(symbol, to: stl_plugin_entry_fn.self)
        guard let descriptor = entry(STL_ABI_MAJOR, STL_ABI_MINOR) else {
            throw PluginLoadError(file: path, "\(STL_ENTRY_SYMBOL) returned NULL: the plugin does not support host ABI \(STL_ABI_MAJOR).\(STL_ABI_MINOR)")
        }
        return PluginLibrary(path: path, descriptor: descriptor)
    }
}
