import Foundation

/// What `stl_host_ctx *` points to: who is calling (a plugin or the host), in which scope, and
/// how deep in a chain of service calls. Lives exactly as long as the plugin call it was made for.
final class CallContext {
    // unowned(unsafe): a context lives only inside a call its runtime makes, so the runtime
    // always outlives it; a checked `unowned` paid an atomic count on every service call.
    unowned(unsafe) let runtime: PluginRuntime
    let plugin: LoadedPlugin?
    let scope: CallScope
    let depth: Int

    init(runtime: PluginRuntime, plugin: LoadedPlugin?, scope: CallScope, depth: Int = 0) {
        self.runtime = runtime
        self.plugin = plugin
        self.scope = scope
        self.depth = depth
    }

    /// Runs `body` with an opaque pointer to this context, valid only inside `body`.
    func withPointer<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) {
            try body(OpaquePointer(Unmanaged.passUnretained(self).toOpaque()))
        }
    }

    static func from(_ pointer: OpaquePointer?) -> CallContext? {
        guard let pointer else { return nil }
        return Unmanaged<CallContext>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}
