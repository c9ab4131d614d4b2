import Foundation
import StelltronPluginKit

/// Everything the host is configured with: its settings (`ConfigurationKey.all`, from options,
/// environment, plugins.conf or defaults), the plugins to load in order, their config tables and
/// the slot assignments. `ConfigurationSources` builds it.
public struct HostConfiguration: Sendable, Equatable {
    public struct PluginEntry: Sendable, Equatable {
        public var id: String
        /// A file name resolved against `pluginDirectory`, or an absolute path.
        public var library: String
        /// The plugin's `[plugin.config]` table.
        public var config: [String: JSONValue]

        public init(id: String, library: String, config: [String: JSONValue] = [:]) {
            self.id = id
            self.library = library
            self.config = config
        }
    }

    public var port: Int = 8080
    public var host: String = "127.0.0.1"
    /// SQLite file; `:memory:` gives a private temporary database (tests).
    public var databasePath: String = "./data/stelltron.sqlite"
    /// Where plugin libraries are looked up; nil means the folder of the running executable.
    public var pluginDirectory: String?
    public var bodyLimitBytes: Int = 64 * 1024
    public var sseKeepAliveSeconds: Double = 15
    /// How many recent events the hub keeps for `Last-Event-ID` replay.
    public var eventReplayCapacity: Int = 1024
    /// How many undelivered events one subscriber may have before it is dropped as too slow.
    public var subscriberQueueCapacity: Int = 512
    /// How many bytes of undelivered events one subscriber may have before it is dropped.
    public var subscriberQueueBytes: Int = 1 << 20
    /// The largest event payload a plugin may publish (its compact JSON); a larger one is refused.
    public var eventMaxBytes: Int = 16 * 1024
    /// A read route whose reads average longer than this (on SQLite, where short reads run on the
    /// event loop that serves the connection) runs its reads on reader threads from then on.
    public var slowReadMilliseconds: Int = 2
    /// Event-loop threads serving HTTP; 0 means three per core (`EventLoopCount`).
    public var eventLoops: Int = 0
    /// Timeouts and per-address quotas of connections and live subscribers.
    public var connections = ConnectionSettings()
    /// Whether this host runs the plugins' periodic work (ticks). On PostgreSQL only the replica
    /// holding the lease does; false keeps a host out of it altogether (and lets tests drive ticks).
    public var periodicWork = true
    /// Requests per minute per client IP (GCRA); 0 disables the limit.
    public var rateLimitPerMinute: Int = 100
    /// Peers whose `X-Forwarded-For` is believed (reverse proxies in front of the host).
    public var trustedProxies: [String] = []
    /// Origins the web frontend is served from; `*` allows any origin, without credentials.
    public var corsAllowedOrigins: [String] = []
    /// Sign-in settings (`[auth]`).
    public var auth = AuthSettings()
    /// Slots that must be filled or the host refuses to start.
    public var requiredSlots: [String] = []
    public var plugins: [PluginEntry] = []
    /// Foreign C functions bound to hook points, from `[hooks]`.
    public var hooks: [HookBinding] = []
    /// slot name → plugin id, from `[slots]`.
    public var slots: [String: String] = [:]
    /// `HOST:PORT` of the Prometheus `/metrics` listener; empty: no metrics.
    public var metricsBind = ""
    /// The lowest log level (`LOG_LEVEL`).
    public var logLevel = "info"
    /// `text`, or `json` for one JSON object per line (`LOG_FORMAT`).
    public var logFormat = "text"
    /// Where the file came from, for error messages and relative paths.
    public var sourcePath: String?

    public init(plugins: [PluginEntry] = [], slots: [String: String] = [:]) {
        self.plugins = plugins
        self.slots = slots
    }
}

/// One `[hooks]` entry: `pricing.f_time = { library = "libx.so", symbol = "f_time", signature = "double(int32)" }`.
public struct HookBinding: Sendable, Equatable {
    public var name: String
    public var library: String
    public var symbol: String
    public var signature: String

    public init(name: String, library: String, symbol: String, signature: String) {
        self.name = name
        self.library = library
        self.symbol = symbol
        self.signature = signature
    }
}

/// Wallet sign-in and token settings, from `[auth]`.
public struct AuthSettings: Sendable, Equatable {
    /// Accept only one-time challenge messages (no static `los-tecnicos-auth` signatures).
    public var requireChallenge = false
    /// HS256 secret; from STELLTRON_JWT_SECRET, else `jwt_secret`, else generated once into the
    /// data folder with owner-only permissions.
    public var jwtSecret: String?
    public var accessTokenSeconds: Double = 900
    public var refreshTokenSeconds: Double = 7 * 86_400
    public var challengeSeconds: Double = 300

    public init() {}
}

public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let message: String

    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }

    public var description: String { "\(file): \(message)" }
}
