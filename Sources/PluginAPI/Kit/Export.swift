import CStelltronPluginAPI
import Foundation

/// Builds (once per process) the C descriptor for `Plugin` and returns it for the entry symbol.
/// A plugin's whole registration is:
///
///     @_cdecl("stl_plugin_entry")
///     public func stl_plugin_entry(_ major: UInt32, _ minor: UInt32) -> UnsafeRawPointer? {
///         exportPlugin(MyPlugin.self, hostABIMajor: major)
///     }
///
/// Returns nil when the host speaks another major ABI version.
public func exportPlugin<Plugin: StelltronPlugin>(_ type: Plugin.Type, hostABIMajor: UInt32) -> UnsafeRawPointer? {
    guard hostABIMajor == STL_ABI_MAJOR else { return nil }
    return DescriptorStore.shared.descriptor(for: type)
}

/// Each plugin library carries its own copy of the kit, so this store holds the one plugin type of
/// this library. It is written once, under a lock, and read-only afterwards.
final class DescriptorStore: @unchecked Sendable {
    static let shared = DescriptorStore()

    private let lock = NSLock()
    private var descriptor: UnsafeMutablePointer<stl_plugin_descriptor>?
    private(set) var factory: ((JSONValue, PluginHost) throws -> any StelltronPlugin)?
    private(set) var pluginID = ""

    func descriptor<Plugin: StelltronPlugin>(for type: Plugin.Type) -> UnsafeRawPointer {
        lock.lock()
        defer { lock.unlock() }
        if let descriptor { return UnsafeRawPointer(descriptor) }
        let manifest = Plugin.manifest
        factory = { config, host in try Plugin(config: config, host: host) }
        pluginID = manifest.id
        let built = DescriptorBuilder.build(manifest)
        descriptor = built
        return UnsafeRawPointer(built)
    }
}

/// Lays a manifest out as C structs. Everything allocated here lives for the process: the host
/// never unloads a plugin, and the descriptor is static by contract.
enum DescriptorBuilder {
    static func build(_ manifest: PluginManifest) -> UnsafeMutablePointer<stl_plugin_descriptor> {
        let descriptor = UnsafeMutablePointer<stl_plugin_descriptor>.allocate(capacity: 1)
        descriptor.initialize(to: stl_plugin_descriptor())
        descriptor.pointee.struct_size = UInt32(MemoryLayout<stl_plugin_descriptor>.size)
        descriptor.pointee.abi_major = STL_ABI_MAJOR
        descriptor.pointee.abi_minor = STL_ABI_MINOR
        descriptor.pointee.tick_interval_ms = manifest.tickIntervalMilliseconds
        descriptor.pointee.id = permanent(manifest.id)
        descriptor.pointee.version = permanent(manifest.version)
        descriptor.pointee.description = permanent(manifest.description)
        descriptor.pointee.swift_compiler = permanent(stelltronSwiftCompilerVersion)

        descriptor.pointee.routes = array(manifest.routes) { route in
            var flags: UInt32 = 0
            if route.access == .protected { flags |= STL_ROUTE_PROTECTED }
            if route.mode == .write { flags |= STL_ROUTE_WRITE }
            return stl_route(
                struct_size: UInt32(MemoryLayout<stl_route>.size), flags: flags,
                method: permanent(route.method.rawValue), path: permanent(route.path),
                summary: route.summary.map(permanent), request_schema_json: route.requestSchema.map(permanent),
                response_schema_json: route.responseSchema.map(permanent))
        }
        descriptor.pointee.route_count = manifest.routes.count
        descriptor.pointee.services = array(manifest.services) { service in
            stl_service(
                struct_size: UInt32(MemoryLayout<stl_service>.size), flags: service.writes ? STL_SERVICE_WRITE : 0,
                name: permanent(service.name), summary: service.summary.map(permanent))
        }
        descriptor.pointee.service_count = manifest.services.count
        descriptor.pointee.slots = array(manifest.slots) { slot in
            stl_slot(struct_size: UInt32(MemoryLayout<stl_slot>.size), revision: slot.revision, name: permanent(slot.name))
        }
        descriptor.pointee.slot_count = manifest.slots.count
        descriptor.pointee.migrations = array(manifest.migrations) { migration in
            stl_migration(struct_size: UInt32(MemoryLayout<stl_migration>.size), reserved0: 0,
                          id: permanent(migration.id), sql: permanent(migration.sql),
                          sql_postgres: migration.postgresSQL.map(permanent))
        }
        descriptor.pointee.migration_count = manifest.migrations.count
        descriptor.pointee.subscriptions = array(manifest.subscriptions) { UnsafePointer(permanent($0)) }
        descriptor.pointee.subscription_count = manifest.subscriptions.count
        descriptor.pointee.hook_points = array(manifest.hookPoints) { point in
            stl_hook_point(struct_size: UInt32(MemoryLayout<stl_hook_point>.size), reserved0: 0, name: permanent(point.name),
                           signature: permanent(point.signature), summary: point.summary.map(permanent))
        }
        descriptor.pointee.hook_point_count = manifest.hookPoints.count
        descriptor.pointee.slot_uses = array(manifest.slotUses) { slot in
            stl_slot(struct_size: UInt32(MemoryLayout<stl_slot>.size), revision: slot.revision, name: permanent(slot.name))
        }
        descriptor.pointee.slot_use_count = manifest.slotUses.count

        descriptor.pointee.create = EntryPoints.create
        descriptor.pointee.destroy = EntryPoints.destroy
        descriptor.pointee.handle_request = EntryPoints.handleRequest
        descriptor.pointee.call_service = EntryPoints.callService
        descriptor.pointee.on_event = manifest.subscriptions.isEmpty ? nil : EntryPoints.onEvent
        descriptor.pointee.tick = manifest.tickIntervalMilliseconds == 0 ? nil : EntryPoints.tick
        descriptor.pointee.free_bytes = EntryPoints.freeBytes
        return descriptor
    }

    private static func permanent(_ string: String) -> UnsafePointer<CChar> {
        UnsafePointer(strdup(string)!)
    }

    private static func array<Element, T>(_ elements: [Element], _ transform: (Element) -> T) -> UnsafePointer<T>? {
        if elements.isEmpty { return nil }
        let buffer = UnsafeMutablePointer<T>.allocate(capacity: elements.count)
        for (index, element) in elements.enumerated() {
            (buffer + index).initialize(to: transform(element))
        }
        return UnsafePointer(buffer)
    }
}
