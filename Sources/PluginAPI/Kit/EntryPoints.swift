import CStelltronPluginAPI
import Foundation

/// The instance behind the `void *instance` the host holds. It keeps the host table (valid until
/// destroy) and the plugin object; destroy empties it, so a second destroy does nothing.
final class PluginBox {
    let api: UnsafePointer<stl_host_api>
    private let lock = NSLock()
    private var plugin: (any StelltronPlugin)?

    init(api: UnsafePointer<stl_host_api>, plugin: any StelltronPlugin) {
        self.api = api
        self.plugin = plugin
    }

    func current() throws -> any StelltronPlugin {
        lock.lock()
        defer { lock.unlock() }
        guard let plugin else { throw PluginError(.internalError, "plugin instance was destroyed") }
        return plugin
    }

    func takeForShutdown() -> (any StelltronPlugin)? {
        lock.lock()
        defer { lock.unlock() }
        let taken = plugin
        plugin = nil
        return taken
    }

    static func from(_ instance: UnsafeMutableRawPointer?) -> PluginBox? {
        instance.map { Unmanaged<PluginBox>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// The C entry points of a Swift plugin. Each one is an error barrier: a thrown Swift error becomes
/// a status and a message, never an unwinding across C. (Traps cannot be caught in Swift, so
/// plugin code must not force-unwrap or `fatalError` on input.)
enum EntryPoints {
    static let create: @convention(c) (
        UnsafePointer<stl_host_api>?, OpaquePointer?, stl_str,
        UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<stl_plugin_bytes>?
    ) -> stl_status = { api, ctx, config, instance, err in
        guard let api, let instance else { return STL_ERR_INTERNAL }
        guard let factory = DescriptorStore.shared.factory else {
            return fail(err, PluginError(.internalError, "descriptor was never built"))
        }
        do {
            let configValue: JSONValue = config.len == 0 ? .object([:]) : try JSONCoding.decode(JSONValue.self, from: config.data)
            let plugin = try factory(configValue, PluginHost(api: api, ctx: ctx))
            instance.pointee = Unmanaged.passRetained(PluginBox(api: api, plugin: plugin)).toOpaque()
            return STL_OK
        } catch {
            return fail(err, error)
        }
    }

    static let destroy: @convention(c) (UnsafeMutableRawPointer?) -> Void = { instance in
        // The box itself stays allocated (a few bytes) so that a repeated destroy stays harmless.
        PluginBox.from(instance)?.takeForShutdown()?.shutdown()
    }

    static let handleRequest: @convention(c) (
        UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<stl_request>?, UnsafeMutablePointer<stl_response>?
    ) -> stl_status = { instance, ctx, request, response in
        guard let box = PluginBox.from(instance), let request, let response else { return STL_ERR_INTERNAL }
        response.pointee.struct_size = UInt32(MemoryLayout<stl_response>.size)
        do {
            let plugin = try box.current()
            let answer = try plugin.handle(try PluginRequest(request.pointee), host: PluginHost(api: box.api, ctx: ctx))
            response.pointee.status = UInt32(clamping: answer.status)
            response.pointee.body = pluginBytes(answer.body)
            return STL_OK
        } catch let error as PluginError where error.kind.httpStatus < 500 {
            response.pointee.status = UInt32(error.kind.httpStatus)
            response.pointee.body = pluginBytes(JSONCoding.errorBody(error.message))
            return STL_OK
        } catch {
            response.pointee.status = 500
            response.pointee.body = pluginBytes(Data(describe(error).utf8))
            return STL_ERR_INTERNAL
        }
    }

    static let callService: @convention(c) (
        UnsafeMutableRawPointer?, OpaquePointer?, stl_str, stl_str, UnsafeMutablePointer<stl_plugin_bytes>?
    ) -> stl_status = { instance, ctx, name, request, out in
        guard let box = PluginBox.from(instance), let out else { return STL_ERR_INTERNAL }
        do {
            let plugin = try box.current()
            out.pointee = pluginBytes(try plugin.callService(name.string, request: request.data, host: PluginHost(api: box.api, ctx: ctx)))
            return STL_OK
        } catch {
            return fail(out, error)
        }
    }

    static let onEvent: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, stl_str, stl_str) -> Void = { instance, ctx, type, payload in
        guard let box = PluginBox.from(instance) else { return }
        let host = PluginHost(api: box.api, ctx: ctx)
        do {
            try box.current().onEvent(type: type.string, payload: payload.data, host: host)
        } catch {
            host.log(.error, "event \(type.string) failed: \(describe(error))")
        }
    }

    static let tick: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafeMutablePointer<stl_plugin_bytes>?) -> stl_status = { instance, ctx, err in
        guard let box = PluginBox.from(instance) else { return STL_ERR_INTERNAL }
        do {
            try box.current().tick(host: PluginHost(api: box.api, ctx: ctx))
            return STL_OK
        } catch {
            return fail(err, error)
        }
    }

    static let freeBytes: @convention(c) (stl_plugin_bytes) -> Void = { bytes in
        free(bytes.ptr)
    }

    // MARK: - Helpers

    private static func fail(_ out: UnsafeMutablePointer<stl_plugin_bytes>?, _ error: Error) -> stl_status {
        out?.pointee = pluginBytes(Data(describe(error).utf8))
        return (error as? PluginError)?.kind.rawValue ?? STL_ERR_INTERNAL
    }

    private static func describe(_ error: Error) -> String {
        (error as? PluginError)?.message ?? String(describing: error)
    }

    /// Copies bytes into memory the host will give back through `free_bytes`.
    static func pluginBytes(_ data: Data) -> stl_plugin_bytes {
        guard !data.isEmpty, let memory = malloc(data.count) else { return stl_plugin_bytes() }
        data.withUnsafeBytes { memory.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return stl_plugin_bytes(ptr: memory.assumingMemoryBound(to: UInt8.self), len: data.count)
    }
}

extension PluginRequest {
    /// Copies a C request into Swift values (the C views die when the call returns).
    init(_ raw: stl_request) throws {
        func map(_ view: stl_str) -> [String: String] {
            // `{}` is by far the commonest value; skip the parser for it.
            guard view.len > 2 else { return [:] }
            guard case .object(let members)? = try? JSONValue.parse(view.data) else { return [:] }
            return members.compactMapValues(\.stringValue)
        }
        let userID = raw.user_id.string
        self.init(
            method: raw.method.string, path: raw.path.string, route: raw.route.string,
            pathParameters: map(raw.path_params_json), query: map(raw.query_json), headers: map(raw.headers_json),
            body: raw.body.ptr.map { Data(bytes: $0, count: raw.body.len) } ?? Data(),
            clientIP: raw.client_ip.string, requestID: raw.request_id.string,
            user: userID.isEmpty ? nil : Caller(id: userID, role: raw.user_role.string))
    }
}
