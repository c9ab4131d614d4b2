/// What a plugin declares to the host: identity, routes, services, slots (filled and used), hook
/// points, migrations and the event types it listens to. The kit turns it into the C descriptor
/// once per process.
public struct PluginManifest: Sendable {
    public var id: String
    public var version: String
    public var description: String
    public var routes: [Route]
    public var services: [Service]
    public var slots: [Slot]
    public var migrations: [Migration]
    public var subscriptions: [String]
    /// Where an operator may plug a plain C function (`[hooks]` in plugins.conf), ABI 1.1.
    public var hookPoints: [HookPoint]
    /// The slots whose services the plugin calls, with the revision it speaks, ABI 1.1.
    public var slotUses: [Slot]
    /// How often the host calls `tick`, in milliseconds; 0 means never.
    public var tickIntervalMilliseconds: UInt32

    public init(
        id: String, version: String, description: String = "",
        routes: [Route] = [], services: [Service] = [], slots: [Slot] = [],
        migrations: [Migration] = [], subscriptions: [String] = [], hookPoints: [HookPoint] = [], slotUses: [Slot] = [],
        tickIntervalMilliseconds: UInt32 = 0
    ) {
        self.id = id
        self.version = version
        self.description = description
        self.routes = routes
        self.services = services
        self.slots = slots
        self.migrations = migrations
        self.subscriptions = subscriptions
        self.hookPoints = hookPoints
        self.slotUses = slotUses
        self.tickIntervalMilliseconds = tickIntervalMilliseconds
    }
}

extension PluginManifest {
    /// A point where an operator may replace one of the plugin's rules by a plain C function. The
    /// host checks the bound function's declared signature against this one at load; the plugin
    /// gets the function in `init` through `PluginHost.hookFunction(_:as:)`.
    public struct HookPoint: Sendable, Equatable {
        /// `<plugin id or a slot it fills>.<name>`, e.g. `pricing.f_time`.
        public var name: String
        /// `double(int32)`: returns and arguments from `int32`, `int64`, `double`.
        public var signature: String
        public var summary: String?

        public init(_ name: String, signature: String, summary: String? = nil) {
            self.name = name
            self.signature = signature
            self.summary = summary
        }
    }
}

extension PluginManifest {
    /// A route the plugin serves. Paths use `:name` for parameters: `/iot/nodes/:device_id`.
    public struct Route: Sendable, Equatable {
        public enum Method: String, Sendable { case get = "GET", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE" }
        /// Whether the host must authenticate the caller before the plugin sees the request.
        public enum Access: Sendable { case `public`, protected }
        /// Write routes run in the single write transaction; read routes on a read snapshot.
        public enum Mode: Sendable { case read, write }

        public var method: Method
        public var path: String
        public var access: Access
        public var mode: Mode
        public var summary: String?
        public var requestSchema: String?
        public var responseSchema: String?

        public init(_ method: Method, _ path: String, access: Access, mode: Mode, summary: String? = nil,
                    requestSchema: String? = nil, responseSchema: String? = nil) {
            self.method = method
            self.path = path
            self.access = access
            self.mode = mode
            self.summary = summary
            self.requestSchema = requestSchema
            self.responseSchema = responseSchema
        }
    }

    /// A service other plugins call by name through the host, inside their own transaction.
    public struct Service: Sendable {
        public var name: String
        public var writes: Bool
        public var summary: String?

        public init(_ name: String, writes: Bool, summary: String? = nil) {
            self.name = name
            self.writes = writes
            self.summary = summary
        }
    }

    /// A replaceable role the plugin can fill, such as `pricing` or `scheduler`.
    public struct Slot: Sendable {
        public var name: String
        public var revision: UInt32

        public init(_ name: String, revision: UInt32 = 1) {
            self.name = name
            self.revision = revision
        }
    }

    /// One schema step. Applied once, in order, in a transaction; never edit one that shipped.
    /// `sql` is SQLite's dialect; on PostgreSQL the host translates it, unless the step ships
    /// `postgresSQL`, the same step in PostgreSQL's dialect (triggers, SQLite-only functions).
    public struct Migration: Sendable {
        public var id: String
        public var sql: String
        public var postgresSQL: String?

        public init(_ id: String, _ sql: String) {
            self.id = id
            self.sql = sql
        }

        public init(_ id: String, _ sql: String, postgres: String) {
            self.id = id
            self.sql = sql
            self.postgresSQL = postgres
        }
    }
}

/// Inside a plugin type, the manifest's parts go by their short names (`Route(.get, ...)`), without
/// the kit exporting globals that would clash with Hummingbird's `Route` or ServiceLifecycle's
/// `Service` in a file that imports both.
extension StelltronPlugin {
    public typealias Route = PluginManifest.Route
    public typealias Service = PluginManifest.Service
    public typealias Slot = PluginManifest.Slot
    public typealias Migration = PluginManifest.Migration
    public typealias HookPoint = PluginManifest.HookPoint
}
