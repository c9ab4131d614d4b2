import CStelltronPluginAPI
import Foundation

/// Where a service name leads, resolved once at load: the plugin that answers it (a slot's filler
/// for a slot service), its declaration, and the name's bytes for the C call. A service call then
/// costs one dictionary lookup, not a split of the name, a slot and a service lookup and a fresh
/// C copy of the name on every call (the ABI round-trip profile).
struct ServiceTarget {
    let plugin: LoadedPlugin
    let service: PluginDeclaration.Service
    /// The name, NUL-terminated, as the C call hands it over.
    private let nameBytes: ContiguousArray<CChar>

    init(plugin: LoadedPlugin, service: PluginDeclaration.Service) {
        self.plugin = plugin
        self.service = service
        nameBytes = ContiguousArray(service.name.utf8CString)
    }

    /// Runs `body` with the name as an `stl_str` valid for the call.
    func withName<Answer>(_ body: (stl_str) -> Answer) -> Answer {
        nameBytes.withUnsafeBufferPointer { body(stl_str(ptr: $0.baseAddress, len: $0.count - 1)) }
    }

    /// Every service a call can reach by name: plugins' own, and each filled slot's services. A
    /// name under a filled slot's prefix is the slot's alone, as it was when calls were resolved
    /// one by one: another plugin's service of that name is not reachable.
    static func table(services: [String: (plugin: LoadedPlugin, service: PluginDeclaration.Service)],
                      slots: [String: LoadedPlugin]) -> [String: ServiceTarget] {
        var table: [String: ServiceTarget] = [:]
        for (name, entry) in services where slots[String(name.prefix { $0 != "." })] == nil {
            table[name] = ServiceTarget(plugin: entry.plugin, service: entry.service)
        }
        for (slot, filler) in slots {
            for service in filler.declaration.services where service.name.hasPrefix(slot + ".") {
                table[service.name] = ServiceTarget(plugin: filler, service: service)
            }
        }
        return table
    }
}
