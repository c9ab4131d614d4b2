import CStelltronPluginAPI
import Foundation
import StelltronPluginKit

/// A plugin that passed every load check: its declaration, its descriptor and, once created, its
/// instance. Calls into the plugin go through here; each copies what it needs out of the C buffers
/// and gives them back to the plugin at once.
// Sendable: immutable except `instance`, written once during load before any request can reach it;
// the plugin's own entry points are thread-tagged by the ABI.
public final class LoadedPlugin: @unchecked Sendable {
    public let declaration: PluginDeclaration
    /// The library file it came from.
    public let file: String
    let descriptor: UnsafePointer<stl_plugin_descriptor>
    /// The plugin's table from plugins.conf.
    let config: [String: JSONValue]
    /// Written once, during load, before any request can reach the plugin.
    private(set) var instance: UnsafeMutableRawPointer?

    init(declaration: PluginDeclaration, file: String, descriptor: UnsafePointer<stl_plugin_descriptor>, config: [String: JSONValue]) {
        self.declaration = declaration
        self.file = file
        self.descriptor = descriptor
        self.config = config
    }

    public var id: String { declaration.id }

    /// The outcome of one call into the plugin. The body is an array, not `Data`: a service
    /// call's answer only passes through the host, and `Data`'s storage paid run-time exclusivity
    /// checks on every copy in and out (≈ 15 % of the ABI round trip's samples).
    struct Outcome {
        var status: stl_status
        var body: [UInt8]

        init(status: stl_status, body: [UInt8]) {
            self.status = status
            self.body = body
        }

        /// An outcome the host makes itself (a message, a host service's answer).
        init(status: stl_status, body: Data) {
            self.init(status: status, body: [UInt8](body))
        }
    }

    func create(api: UnsafePointer<stl_host_api>, ctx: OpaquePointer) -> Outcome {
        var err = stl_plugin_bytes()
        var created: UnsafeMutableRawPointer?
        let status = JSONValue.object(config).jsonData.withUnsafeBytes { raw in
            descriptor.pointee.create!(api, ctx, stl_str(ptr: raw.bindMemory(to: CChar.self).baseAddress, len: raw.count), &created, &err)
        }
        if status == STL_OK { instance = created }
        return Outcome(status: status, body: take(err, Array.init))
    }

    func destroy() {
        guard let instance else { return }
        descriptor.pointee.destroy!(instance)
    }

    func handle(_ request: UnsafePointer<stl_request>, ctx: OpaquePointer) -> (status: stl_status, httpStatus: Int, body: Data) {
        var response = stl_response()
        response.struct_size = UInt32(MemoryLayout<stl_response>.size)
        let status = descriptor.pointee.handle_request!(instance, ctx, request, &response)
        return (status, Int(response.status), take(response.body) { Data(buffer: $0) })
    }

    func callService(_ name: stl_str, request: stl_str, ctx: OpaquePointer) -> Outcome {
        guard let call = descriptor.pointee.call_service else {
            return Outcome(status: STL_ERR_UNKNOWN_SERVICE, body: Data("\(id) offers no services".utf8))
        }
        var out = stl_plugin_bytes()
        let status = call(instance, ctx, name, request, &out)
        return Outcome(status: status, body: take(out, Array.init))
    }

    func deliverEvent(type: stl_str, payload: stl_str, ctx: OpaquePointer) {
        descriptor.pointee.on_event?(instance, ctx, type, payload)
    }

    func tick(ctx: OpaquePointer) -> Outcome {
        guard let tick = descriptor.pointee.tick else { return Outcome(status: STL_OK, body: []) }
        var err = stl_plugin_bytes()
        let status = tick(instance, ctx, &err)
        return Outcome(status: status, body: take(err, Array.init))
    }

    func subscribes(to type: String) -> Bool {
        declaration.subscriptions.contains { $0 == "*" || $0 == type }
    }

    /// Copies plugin-owned bytes (with `copy`: into an array, or `Data` for a route's body, which
    /// the HTTP layer writes) and releases them with the plugin's own free function.
    private func take<Bytes>(_ bytes: stl_plugin_bytes, _ copy: (UnsafeBufferPointer<UInt8>) -> Bytes) -> Bytes {
        defer { descriptor.pointee.free_bytes!(bytes) }
        return copy(UnsafeBufferPointer(start: bytes.ptr, count: bytes.ptr == nil ? 0 : bytes.len))
    }
}
