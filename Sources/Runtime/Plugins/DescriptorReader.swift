import CStelltronPluginAPI
import Foundation
import StelltronPluginKit

/// Reads a C descriptor field by field and refuses anything a 1.x host cannot trust: the checks of
/// a magic block, each failing with the name of the field.
enum DescriptorReader {
    /// Every field of ABI 1.0 up to and including free_bytes (STL_DESCRIPTOR_MIN_SIZE_V1 in C).
    static let minimumDescriptorSize = MemoryLayout<stl_plugin_descriptor>.offset(of: \.free_bytes)! + MemoryLayout<UnsafeRawPointer>.size
    /// A descriptor this large carries the ABI 1.1 fields (STL_DESCRIPTOR_SIZE_V1_1 in C).
    static let descriptorSizeV1_1 = MemoryLayout<stl_plugin_descriptor>.offset(of: \.slot_use_count)! + MemoryLayout<Int>.size

    static func read(_ pointer: UnsafePointer<stl_plugin_descriptor>, file: String) throws -> PluginDeclaration {
        func fail(_ problem: String) -> PluginLoadError { PluginLoadError(file: file, problem) }

        // struct_size comes first in every version; read it before anything else.
        // struct_size and abi_major sit at fixed offsets in every version: read them before trusting
        // the rest, so a short descriptor is never read past its end.
        let size = UnsafeRawPointer(pointer).load(as: UInt32.self)
        if size >= 8 {
            let major = UnsafeRawPointer(pointer).load(fromByteOffset: 4, as: UInt32.self)
            if major != STL_ABI_MAJOR {
                throw fail("abi_major is \(major), this host speaks \(STL_ABI_MAJOR).\(STL_ABI_MINOR)")
            }
        }
        guard size >= UInt32(minimumDescriptorSize) else {
            throw fail("struct_size is \(size) bytes, smaller than the \(minimumDescriptorSize) of ABI 1.0")
        }
        let raw = pointer.pointee
        let compiler = raw.swift_compiler.map { String(cString: $0) } ?? ""
        if !compiler.isEmpty && compiler != hostSwiftCompilerVersion {
            throw fail("swift_compiler is \(compiler), the host was built with Swift \(hostSwiftCompilerVersion): rebuild the plugin with the host's compiler")
        }
        guard let idPointer = raw.id, let versionPointer = raw.version else {
            throw fail("id and version must not be NULL")
        }
        let id = String(cString: idPointer)
        guard isValidID(id) else { throw fail("id '\(id)' must match [a-z][a-z0-9_]*") }
        guard raw.create != nil, raw.destroy != nil, raw.handle_request != nil, raw.free_bytes != nil else {
            throw fail("create, destroy, handle_request and free_bytes must not be NULL")
        }
        if raw.service_count > 0 && raw.call_service == nil { throw fail("call_service is NULL but services are declared") }
        if raw.subscription_count > 0 && raw.on_event == nil { throw fail("on_event is NULL but subscriptions are declared") }
        if raw.tick_interval_ms > 0 && raw.tick == nil { throw fail("tick is NULL but tick_interval_ms is set") }

        let routes = try elements(raw.routes, raw.route_count, minimum: MemoryLayout<stl_route>.size, field: "routes", fail: fail) { (route: stl_route) in
            PluginDeclaration.Route(
                method: string(route.method), path: string(route.path),
                isProtected: route.flags & STL_ROUTE_PROTECTED != 0, writes: route.flags & STL_ROUTE_WRITE != 0,
                summary: route.summary.map { String(cString: $0) },
                requestSchema: route.request_schema_json.map { String(cString: $0) },
                responseSchema: route.response_schema_json.map { String(cString: $0) })
        }
        for route in routes {
            guard ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(route.method) else {
                throw fail("route \(route.path) has unsupported method '\(route.method)'")
            }
            guard route.path.hasPrefix("/"), !route.path.contains("?"), !route.path.contains("*") else {
                throw fail("route path '\(route.path)' must start with / and hold no query or wildcard")
            }
        }
        let services = try elements(raw.services, raw.service_count, minimum: MemoryLayout<stl_service>.size, field: "services", fail: fail) { (service: stl_service) in
            PluginDeclaration.Service(name: string(service.name), writes: service.flags & STL_SERVICE_WRITE != 0,
                                      summary: service.summary.map { String(cString: $0) })
        }
        let slots = try elements(raw.slots, raw.slot_count, minimum: MemoryLayout<stl_slot>.size, field: "slots", fail: fail) { (slot: stl_slot) in
            PluginDeclaration.Slot(name: string(slot.name), revision: slot.revision)
        }
        for service in services {
            let prefix = service.name.split(separator: ".", maxSplits: 1).first.map(String.init) ?? ""
            guard service.name.contains("."), prefix == id || slots.contains(where: { $0.name == prefix }) else {
                throw fail("service '\(service.name)' must be named '\(id).<verb>' or '<slot>.<verb>' for a slot the plugin fills")
            }
        }
        // 1.0 and 1.1 migrations end at `sql`; `sql_postgres` is read only from a 1.2 one.
        let migrations = try rawElements(raw.migrations, raw.migration_count, minimum: MemoryLayout<stl_migration>.offset(of: \.sql_postgres)!,
                                         field: "migrations", fail: fail) { element, size in
            let sql = { (offset: Int) in string(element.load(fromByteOffset: offset, as: UnsafePointer<CChar>?.self)) }
            let postgres = size >= migrationSizeV1_2 ? element.load(fromByteOffset: MemoryLayout<stl_migration>.offset(of: \.sql_postgres)!, as: UnsafePointer<CChar>?.self) : nil
            return PluginDeclaration.Migration(id: sql(MemoryLayout<stl_migration>.offset(of: \.id)!), sql: sql(MemoryLayout<stl_migration>.offset(of: \.sql)!),
                                               postgresSQL: postgres.map { String(cString: $0) })
        }
        if Set(migrations.map(\.id)).count != migrations.count { throw fail("two migrations share an id") }
        var subscriptions: [String] = []
        if raw.subscription_count > 0 {
            guard let list = raw.subscriptions else { throw fail("subscriptions is NULL with a non-zero count") }
            subscriptions = (0..<raw.subscription_count).map { string(list[$0]) }
        }

        var declaration = PluginDeclaration(
            id: id, version: String(cString: versionPointer), description: string(raw.description),
            abiMajor: raw.abi_major, abiMinor: raw.abi_minor, descriptorSize: size, swiftCompiler: compiler,
            tickIntervalMilliseconds: raw.tick_interval_ms,
            routes: routes, services: services, slots: slots, migrations: migrations, subscriptions: subscriptions)
        // A 1.0 descriptor ends before these fields: nothing past its struct_size is read.
        if size >= UInt32(descriptorSizeV1_1) {
            declaration.hookPoints = try elements(raw.hook_points, raw.hook_point_count, minimum: MemoryLayout<stl_hook_point>.size,
                                                  field: "hook_points", fail: fail) { (point: stl_hook_point) in
                let name = string(point.name), text = string(point.signature)
                let prefix = String(name.prefix { $0 != "." })
                guard name.contains("."), prefix == id || slots.contains(where: { $0.name == prefix }) else {
                    throw fail("hook point '\(name)' must be named '\(id).<name>' or '<slot>.<name>' for a slot the plugin fills")
                }
                guard let signature = HookSignature(text) else {
                    throw fail("hook point \(name): signature '\(text)' is not of the form type(type, ...) with int32, int64 or double")
                }
                return PluginDeclaration.HookPoint(name: name, signature: signature, summary: point.summary.map { String(cString: $0) })
            }
            if Set(declaration.hookPoints.map(\.name)).count != declaration.hookPoints.count { throw fail("two hook points share a name") }
            declaration.slotUses = try elements(raw.slot_uses, raw.slot_use_count, minimum: MemoryLayout<stl_slot>.size,
                                                field: "slot_uses", fail: fail) { (slot: stl_slot) in
                PluginDeclaration.Slot(name: string(slot.name), revision: slot.revision)
            }
        }
        return declaration
    }

    /// Walks a declared array, striding by the struct_size of its first element so that a plugin
    /// built against a newer minor version (larger structs) is read correctly.
    /// A migration this large carries `sql_postgres` (STL_MIGRATION_SIZE_V1_2 in C).
    static let migrationSizeV1_2 = MemoryLayout<stl_migration>.offset(of: \.sql_postgres)! + MemoryLayout<UnsafePointer<CChar>?>.size

    /// `elements` for a struct that grew: each element is read through its own `struct_size`
    /// bytes only, never as the host's larger struct.
    private static func rawElements<Element, Result>(
        _ base: UnsafePointer<Element>?, _ count: Int, minimum: Int, field: String,
        fail: (String) -> PluginLoadError, _ transform: (UnsafeRawPointer, Int) throws -> Result
    ) throws -> [Result] {
        guard count > 0 else { return [] }
        guard let base else { throw fail("\(field) is NULL with a count of \(count)") }
        guard count <= 10_000 else { throw fail("\(field) count \(count) is implausible") }
        let raw = UnsafeRawPointer(base)
        let stride = Int(raw.load(as: UInt32.self))
        guard stride >= minimum else {
            throw fail("\(field)[0].struct_size is \(stride) bytes, smaller than the \(minimum) of ABI 1.0")
        }
        return try (0..<count).map { index in
            let element = raw + index * stride
            guard Int(element.load(as: UInt32.self)) == stride else { throw fail("\(field)[\(index)].struct_size differs from \(field)[0]") }
            return try transform(element, stride)
        }
    }

    private static func elements<Element, Result>(
        _ base: UnsafePointer<Element>?, _ count: Int, minimum: Int, field: String,
        fail: (String) -> PluginLoadError, _ transform: (Element) throws -> Result
    ) throws -> [Result] {
        try rawElements(base, count, minimum: minimum, field: field, fail: fail) { element, _ in
            try transform(element.assumingMemoryBound(to: Element.self).pointee)
        }
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }

    static func isValidID(_ id: String) -> Bool {
        guard let first = id.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
        return id.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}

/// The Swift compiler the host was built with, in the kit's "major.minor" form: the host links the
/// same kit code that stamps plugins, so both sides compute it the same way.
let hostSwiftCompilerVersion = stelltronSwiftCompilerVersion
