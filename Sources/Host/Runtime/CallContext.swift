import Foundation
import GRDB

/// An event a plugin emitted, waiting for its transaction to commit.
struct PendingEvent {
    let type: String
    let payloadJSON: Data
}

/// The storage and event state shared by one request and every service call it makes.
final class CallScope {
    enum Access {
        /// A read snapshot: queries only.
        case read(Database)
        /// The write connection, inside the request's transaction (or autocommit for event delivery).
        case write(Database)
    }

    let access: Access
    let requestID: String
    var events: [PendingEvent] = []

    init(access: Access, requestID: String) {
        self.access = access
        self.requestID = requestID
    }

    var database: Database {
        switch access {
        case .read(let db), .write(let db): return db
        }
    }

    var canWrite: Bool {
        if case .write = access { return true }
        return false
    }
}

/// What `stl_host_ctx *` points to: who is calling (a plugin or the host), in which scope, and
/// how deep in a chain of service calls. Lives exactly as long as the plugin call it was made for.
final class CallContext {
    unowned let runtime: PluginRuntime
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
