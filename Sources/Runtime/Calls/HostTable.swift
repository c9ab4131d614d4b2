import CSodium
import CStelltronPluginAPI
import Foundation
import Logging
import StelltronPluginKit

/// The host side of `stl_host_api`: plain C functions that find their `CallContext` through the
/// ctx pointer. Nothing here is global state; the table itself is immutable.
enum HostTable {
    /// Allocates a table for one runtime. Lives until the runtime destroys its plugins.
    static func make() -> UnsafeMutablePointer<stl_host_api> {
        let table = UnsafeMutablePointer<stl_host_api>.allocate(capacity: 1)
        table.initialize(to: stl_host_api())
        table.pointee.struct_size = UInt32(MemoryLayout<stl_host_api>.size)
        table.pointee.abi_major = STL_ABI_MAJOR
        table.pointee.abi_minor = STL_ABI_MINOR
        table.pointee.log = log
        table.pointee.storage_query = storageQuery
        table.pointee.storage_exec = storageExec
        table.pointee.emit_event = emitEvent
        table.pointee.call_service = callService
        table.pointee.config_get = configGet
        table.pointee.clock_now_ms = clockNow
        table.pointee.random_bytes = randomBytes
        table.pointee.free_bytes = freeBytes
        table.pointee.hook_function = hookFunction
        table.pointee.storage_query_values = storageQueryValues
        table.pointee.storage_exec_values = storageExecValues
        table.pointee.free_rows = freeRows
        return table
    }

    static let log: @convention(c) (OpaquePointer?, Int32, stl_str) -> Void = { ctx, level, message in
        guard let context = CallContext.from(ctx) else { return }
        let levels: [Logger.Level] = [.debug, .info, .warning, .error]
        var logger = context.runtime.logger
        logger[metadataKey: "plugin"] = .string(context.plugin?.id ?? "host")
        logger[metadataKey: "request"] = .string(context.scope.requestID)
        logger.log(level: levels[Int(max(0, min(3, level)))], "\(message.string)")
    }

    static let storageQuery: @convention(c) (OpaquePointer?, stl_str, stl_str, UnsafeMutablePointer<stl_host_bytes>?) -> stl_status = { ctx, sql, params, out in
        guard let context = CallContext.from(ctx), let out else { return STL_ERR_INTERNAL }
        do {
            let text = sql.string
            try SQLBridge.checkAllowed(text)
            out.pointee = hostBytes(try context.scope.session.query(text, parametersJSON: params.data))
            return STL_OK
        } catch {
            return fail(out, error, context)
        }
    }

    static let storageExec: @convention(c) (OpaquePointer?, stl_str, stl_str, UnsafeMutablePointer<stl_host_bytes>?) -> stl_status = { ctx, sql, params, out in
        guard let context = CallContext.from(ctx), let out else { return STL_ERR_INTERNAL }
        guard context.scope.canWrite else {
            out.pointee = hostBytes(Data("storage_exec is not allowed on a read-only route or service call".utf8))
            return STL_ERR_STORAGE
        }
        do {
            let text = sql.string
            try SQLBridge.checkAllowed(text)
            let changes = try context.scope.session.execute(text, parametersJSON: params.data)
            out.pointee = hostBytes(Data("{\"changes\":\(changes.changes),\"last_insert_rowid\":\(changes.lastInsertRowID)}".utf8))
            return STL_OK
        } catch {
            return fail(out, error, context)
        }
    }

    /// ABI 1.3: `storageQuery` with typed parameters and rows, neither side writing JSON.
    static let storageQueryValues: @convention(c) (OpaquePointer?, stl_str, UnsafePointer<stl_value>?, Int, UnsafeMutablePointer<stl_rows>?, UnsafeMutablePointer<stl_host_bytes>?) -> stl_status = { ctx, sql, params, count, rows, err in
        guard let context = CallContext.from(ctx), let rows, let err else { return STL_ERR_INTERNAL }
        rows.pointee = stl_rows()
        rows.pointee.struct_size = UInt32(MemoryLayout<stl_rows>.size)
        err.pointee = stl_host_bytes()
        do {
            let text = sql.string
            try SQLBridge.checkAllowed(text)
            rows.pointee = try context.scope.session.query(text, values: StatementValues(params, count: count)).finish()
            return STL_OK
        } catch {
            return fail(err, error, context)
        }
    }

    /// ABI 1.3: `storageExec` with typed parameters; the counts come back as integers.
    static let storageExecValues: @convention(c) (OpaquePointer?, stl_str, UnsafePointer<stl_value>?, Int, UnsafeMutablePointer<Int64>?, UnsafeMutablePointer<Int64>?, UnsafeMutablePointer<stl_host_bytes>?) -> stl_status = { ctx, sql, params, count, changes, rowID, err in
        guard let context = CallContext.from(ctx), let err else { return STL_ERR_INTERNAL }
        err.pointee = stl_host_bytes()
        guard context.scope.canWrite else {
            err.pointee = hostBytes(Data("storage_exec_values is not allowed on a read-only route or service call".utf8))
            return STL_ERR_STORAGE
        }
        do {
            let text = sql.string
            try SQLBridge.checkAllowed(text)
            let result = try context.scope.session.execute(text, values: StatementValues(params, count: count))
            changes?.pointee = Int64(result.changes)
            rowID?.pointee = result.lastInsertRowID
            return STL_OK
        } catch {
            return fail(err, error, context)
        }
    }

    static let freeRows: @convention(c) (OpaquePointer?, UnsafeMutablePointer<stl_rows>?) -> Void = { _, rows in
        guard let rows else { return }
        free(rows.pointee.host_owned)
        rows.pointee = stl_rows()
    }

    static let emitEvent: @convention(c) (OpaquePointer?, stl_str, stl_str, UnsafeMutablePointer<stl_host_bytes>?) -> stl_status = { ctx, type, payload, err in
        guard let context = CallContext.from(ctx) else { return STL_ERR_INTERNAL }
        let name = type.string
        // A read scope has no commit after which its events could go out: emitting is refused.
        guard context.scope.canWrite else {
            err?.pointee = hostBytes(Data("event '\(name)' cannot be emitted from a read-only route or service call".utf8))
            return STL_ERR_STORAGE
        }
        guard EventHub.isValidType(name) else {
            err?.pointee = hostBytes(Data("event type '\(name)' must match [a-z][a-z0-9_.]* (at most 64 characters)".utf8))
            return STL_ERR_BAD_REQUEST
        }
        // The hub publishes only canonical JSON: the payload as the kit wrote it when it already
        // is (CanonicalJSON), else parsed and written back, so no byte a client sent (a raw CR,
        // padding) reaches a subscriber as it came.
        let given = payload.data
        let data: Data
        if CanonicalJSON.isCanonicalObject(given) {
            data = given
        } else {
            guard let value = try? JSONValue.parse(given), case .object = value else {
                err?.pointee = hostBytes(Data("event payload must be a JSON object".utf8))
                return STL_ERR_BAD_REQUEST
            }
            data = value.jsonData
        }
        let limit = context.runtime.configuration.eventMaxBytes
        guard data.count <= limit else {
            err?.pointee = hostBytes(Data("event payload is \(data.count) bytes, over the host's event_max_bytes (\(limit))".utf8))
            return STL_ERR_BAD_REQUEST
        }
        context.scope.events.append(PendingEvent(type: name, payloadJSON: data))
        return STL_OK
    }

    static let callService: @convention(c) (OpaquePointer?, stl_str, stl_str, UnsafeMutablePointer<stl_host_bytes>?) -> stl_status = { ctx, name, request, out in
        guard let context = CallContext.from(ctx), let out else { return STL_ERR_INTERNAL }
        let outcome = context.runtime.callService(name: name.string, request: request, from: context)
        out.pointee = hostBytes(outcome.body)
        return outcome.status
    }

    static let configGet: @convention(c) (OpaquePointer?, stl_str, UnsafeMutablePointer<stl_host_bytes>?) -> stl_status = { ctx, key, out in
        guard let context = CallContext.from(ctx), let out else { return STL_ERR_INTERNAL }
        guard let value = context.plugin?.config[key.string] else {
            out.pointee = hostBytes(Data("no config key '\(key.string)'".utf8))
            return STL_ERR_NOT_FOUND
        }
        out.pointee = hostBytes(value.jsonData)
        return STL_OK
    }

    static let clockNow: @convention(c) (OpaquePointer?) -> Int64 = { ctx in
        let now = CallContext.from(ctx)?.runtime.clock() ?? Date()
        return Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
    }

    static let randomBytes: @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt8>?, Int) -> stl_status = { _, destination, count in
        guard count >= 0 else { return STL_ERR_BAD_REQUEST }
        guard count > 0 else { return STL_OK }
        guard let destination else { return STL_ERR_BAD_REQUEST }
        randombytes_buf(destination, count)
        return STL_OK
    }

    /// Hands a plugin, during its `create`, the C function bound to one of its own hook points.
    static let hookFunction: @convention(c) (OpaquePointer?, stl_str, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> stl_status = { ctx, name, out in
        guard let context = CallContext.from(ctx), let out, let plugin = context.plugin else { return STL_ERR_INTERNAL }
        // Hooks are bound once, at load: asking later would mean asking per call, which is what
        // declaring them avoids.
        guard context.scope.kind == .load else { return STL_ERR_FORBIDDEN }
        let hookName = name.string
        guard plugin.declaration.hookPoints.contains(where: { $0.name == hookName }),
              let hook = context.runtime.hooks[hookName] else { return STL_ERR_NOT_FOUND }
        out.pointee = hook.function
        return STL_OK
    }

    static let freeBytes: @convention(c) (OpaquePointer?, stl_host_bytes) -> Void = { _, bytes in
        free(bytes.ptr)
    }

    // MARK: - Helpers

    private static func fail(_ out: UnsafeMutablePointer<stl_host_bytes>, _ error: Error, _ context: CallContext) -> stl_status {
        switch error {
        case let error as StorageFailure:
            if error.kind == .statement { context.runtime.metrics.storageErrors.increment() }
            out.pointee = hostBytes(Data(error.message.utf8))
            return error.kind == .parameters ? STL_ERR_BAD_REQUEST : STL_ERR_STORAGE
        case let error as SQLBridge.BridgeError:
            out.pointee = hostBytes(Data(error.message.utf8))
            return STL_ERR_BAD_REQUEST
        default:
            out.pointee = hostBytes(Data(String(describing: error).utf8))
            return STL_ERR_INTERNAL
        }
    }

    /// Copies bytes (an array or `Data`) into memory the plugin gives back through `free_bytes`.
    static func hostBytes(_ bytes: some ContiguousBytes) -> stl_host_bytes {
        bytes.withUnsafeBytes { raw in
            guard raw.count > 0, let memory = malloc(raw.count) else { return stl_host_bytes() }
            memory.copyMemory(from: raw.baseAddress!, byteCount: raw.count)
            return stl_host_bytes(ptr: memory.assumingMemoryBound(to: UInt8.self), len: raw.count)
        }
    }
}
