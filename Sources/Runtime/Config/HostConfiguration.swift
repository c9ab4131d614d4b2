import Foundation
import StelltronPluginKit
import TOMLKit

/// Everything `plugins.conf` says: the host's settings, the plugins to load in order, their
/// config tables and the slot assignments.
public struct HostConfiguration: Sendable {
    public struct PluginEntry: Sendable, Equatable {
        public var id: String
        /// A file name resolved against `pluginDirectory`, or an absolute path.
        public var library: String
        /// The plugin's `[plugin.config]` table as a JSON object.
        public var configJSON: Data

        public init(id: String, library: String, configJSON: Data = Data("{}".utf8)) {
            self.id = id
            self.library = library
            self.configJSON = configJSON
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
    /// Timeouts and per-address quotas of connections and live subscribers.
    public var connections = ConnectionSettings()
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
    /// Where the file came from, for error messages and relative paths.
    public var sourcePath: String?

    public init(plugins: [PluginEntry] = [], slots: [String: String] = [:]) {
        self.plugins = plugins
        self.slots = slots
    }

    /// Reads and validates a `plugins.conf` file.
    public static func load(path: String) throws -> HostConfiguration {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError(file: path, message: "cannot read the file")
        }
        var configuration = try parse(text, file: path)
        configuration.sourcePath = path
        return configuration
    }

    /// Applies the environment overrides operators and load tests use.
    public mutating func applyEnvironment(_ environment: [String: String]) throws {
        if let value = environment["STELLTRON_RATE_LIMIT_PER_MINUTE"], !value.isEmpty {
            guard let limit = Int(value), limit >= 0 else {
                throw ConfigurationError(file: "STELLTRON_RATE_LIMIT_PER_MINUTE", message: "must be a whole number ≥ 0")
            }
            rateLimitPerMinute = limit
        }
        if let secret = environment["STELLTRON_JWT_SECRET"], !secret.isEmpty, auth.jwtSecret == nil {
            auth.jwtSecret = secret
        }
    }

    /// Parses TOML text. `file` only names the source in errors.
    public static func parse(_ text: String, file: String = "plugins.conf") throws -> HostConfiguration {
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(file: file, message: "TOML syntax error at line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        }
        // TOML → JSON keeps plugin config tables as they are and lets Foundation do the decoding.
        let json = Data(table.convert(to: .json).utf8)
        let raw: RawFile
        do {
            raw = try JSONDecoder().decode(RawFile.self, from: json)
        } catch let error as DecodingError {
            throw ConfigurationError(file: file, message: JSONCoding.describe(error))
        }
        return try raw.validated(file: file)
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
    /// HS256 secret; from `jwt_secret`, else STELLTRON_JWT_SECRET, else generated once into the
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

/// The file's shape as JSON, before validation.
private struct RawFile: Decodable {
    struct Host: Decodable {
        var port: Int?
        var bind: String?
        var database: String?
        var plugin_dir: String?
        var body_limit_bytes: Int?
        var sse_keepalive_seconds: Double?
        var event_replay_capacity: Int?
        var subscriber_queue_capacity: Int?
        var event_max_bytes: Int?
        var subscriber_queue_bytes: Int?
        var request_timeout_seconds: Double?
        var idle_timeout_seconds: Double?
        var max_connections_per_ip: Int?
        var max_subscribers_per_ip: Int?
        var required_slots: [String]?
        var rate_limit_per_minute: Int?
        var trusted_proxies: [String]?
        var cors_allowed_origins: [String]?
    }
    struct Auth: Decodable {
        var require_challenge: Bool?
        var jwt_secret: String?
        var access_token_seconds: Double?
        var refresh_token_days: Double?
        var challenge_seconds: Double?
    }
    struct Plugin: Decodable {
        var id: String
        var library: String
        var config: RawJSON?
    }

    var host: Host?
    var auth: Auth?
    var hooks: RawJSON?
    var plugin: [Plugin]?
    var slots: [String: String]?

    func validated(file: String) throws -> HostConfiguration {
        var configuration = HostConfiguration()
        if let host {
            if let port = host.port {
                guard (0...65535).contains(port) else { throw ConfigurationError(file: file, message: "host.port must be 0–65535") }
                configuration.port = port
            }
            configuration.host = host.bind ?? configuration.host
            configuration.databasePath = host.database ?? configuration.databasePath
            configuration.pluginDirectory = host.plugin_dir.flatMap { $0.isEmpty ? nil : $0 }
            if let limit = host.body_limit_bytes {
                guard limit > 0 else { throw ConfigurationError(file: file, message: "host.body_limit_bytes must be positive") }
                configuration.bodyLimitBytes = limit
            }
            if let seconds = host.sse_keepalive_seconds {
                guard seconds > 0, seconds.isFinite else { throw ConfigurationError(file: file, message: "host.sse_keepalive_seconds must be positive") }
                configuration.sseKeepAliveSeconds = seconds
            }
            if let capacity = host.event_replay_capacity {
                guard capacity >= 0 else { throw ConfigurationError(file: file, message: "host.event_replay_capacity must not be negative") }
                configuration.eventReplayCapacity = capacity
            }
            if let capacity = host.subscriber_queue_capacity {
                guard capacity > 0 else { throw ConfigurationError(file: file, message: "host.subscriber_queue_capacity must be positive") }
                configuration.subscriberQueueCapacity = capacity
            }
            if let limit = host.subscriber_queue_bytes {
                guard limit >= 1024 else { throw ConfigurationError(file: file, message: "host.subscriber_queue_bytes must be at least 1024") }
                configuration.subscriberQueueBytes = limit
            }
            if let limit = host.event_max_bytes {
                guard limit >= 256 else { throw ConfigurationError(file: file, message: "host.event_max_bytes must be at least 256") }
                configuration.eventMaxBytes = limit
            }
            for (name, value) in [("request_timeout_seconds", host.request_timeout_seconds), ("idle_timeout_seconds", host.idle_timeout_seconds)] {
                if let value, !(value > 0 && value.isFinite) { throw ConfigurationError(file: file, message: "host.\(name) must be positive") }
            }
            for (name, value) in [("max_connections_per_ip", host.max_connections_per_ip), ("max_subscribers_per_ip", host.max_subscribers_per_ip)] {
                if let value, value < 1 { throw ConfigurationError(file: file, message: "host.\(name) must be at least 1") }
            }
            configuration.connections.requestTimeoutSeconds = host.request_timeout_seconds ?? configuration.connections.requestTimeoutSeconds
            configuration.connections.idleTimeoutSeconds = host.idle_timeout_seconds ?? configuration.connections.idleTimeoutSeconds
            configuration.connections.maxConnectionsPerIP = host.max_connections_per_ip ?? configuration.connections.maxConnectionsPerIP
            configuration.connections.maxSubscribersPerIP = host.max_subscribers_per_ip ?? configuration.connections.maxSubscribersPerIP
            if configuration.connections.idleTimeoutSeconds <= configuration.sseKeepAliveSeconds {
                throw ConfigurationError(file: file, message: "host.idle_timeout_seconds must be longer than sse_keepalive_seconds, or idle event streams are closed")
            }
            configuration.requiredSlots = host.required_slots ?? []
            if let limit = host.rate_limit_per_minute {
                guard limit >= 0 else { throw ConfigurationError(file: file, message: "host.rate_limit_per_minute must not be negative") }
                configuration.rateLimitPerMinute = limit
            }
            configuration.trustedProxies = host.trusted_proxies ?? []
            configuration.corsAllowedOrigins = host.cors_allowed_origins ?? []
        }
        if let auth {
            configuration.auth.requireChallenge = auth.require_challenge ?? false
            configuration.auth.jwtSecret = auth.jwt_secret.flatMap { $0.isEmpty ? nil : $0 }
            for (name, value) in [("access_token_seconds", auth.access_token_seconds), ("refresh_token_days", auth.refresh_token_days),
                                  ("challenge_seconds", auth.challenge_seconds)] {
                if let value, !(value > 0 && value.isFinite) {
                    throw ConfigurationError(file: file, message: "auth.\(name) must be positive")
                }
            }
            configuration.auth.accessTokenSeconds = auth.access_token_seconds ?? configuration.auth.accessTokenSeconds
            configuration.auth.refreshTokenSeconds = auth.refresh_token_days.map { $0 * 86_400 } ?? configuration.auth.refreshTokenSeconds
            configuration.auth.challengeSeconds = auth.challenge_seconds ?? configuration.auth.challengeSeconds
        }
        var seen = Set<String>()
        for entry in plugin ?? [] {
            guard !entry.id.isEmpty, !entry.library.isEmpty else {
                throw ConfigurationError(file: file, message: "every [[plugin]] needs a non-empty id and library")
            }
            guard seen.insert(entry.id).inserted else {
                throw ConfigurationError(file: file, message: "plugin '\(entry.id)' is listed twice")
            }
            let config = try entry.config.map { try JSONSerialization.data(withJSONObject: $0.value, options: [.sortedKeys]) } ?? Data("{}".utf8)
            configuration.plugins.append(.init(id: entry.id, library: entry.library, configJSON: config))
        }
        configuration.slots = slots ?? [:]
        if let hooks {
            guard let table = hooks.value as? [String: Any] else { throw ConfigurationError(file: file, message: "[hooks] must be a table") }
            configuration.hooks = try Self.hookBindings(table, prefix: "", file: file).sorted { $0.name < $1.name }
        }
        return configuration
    }
}

extension RawFile {
    /// Flattens `[hooks]`: a table holding `library` is one binding, named by its dotted path
    /// (`pricing.f_time = {...}` is, in TOML, the table `pricing` holding `f_time`).
    static func hookBindings(_ table: [String: Any], prefix: String, file: String) throws -> [HookBinding] {
        var bindings: [HookBinding] = []
        for (key, value) in table {
            let name = prefix.isEmpty ? key : "\(prefix).\(key)"
            guard let entry = value as? [String: Any] else {
                throw ConfigurationError(file: file, message: "hooks.\(name) must be a table with library, symbol and signature")
            }
            if entry["library"] == nil {
                bindings += try hookBindings(entry, prefix: name, file: file)
                continue
            }
            guard let library = entry["library"] as? String, let symbol = entry["symbol"] as? String,
                  let signature = entry["signature"] as? String, !library.isEmpty, !symbol.isEmpty else {
                throw ConfigurationError(file: file, message: "hooks.\(name) needs library, symbol and signature (strings)")
            }
            bindings.append(HookBinding(name: name, library: library, symbol: symbol, signature: signature))
        }
        return bindings
    }
}

/// Decodes any JSON object as Foundation values (for plugin config tables).
private struct RawJSON: Decodable {
    let value: Any

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let object = try? container.decode([String: RawJSON].self) {
            value = object.mapValues(\.value)
        } else if let array = try? container.decode([RawJSON].self) {
            value = array.map(\.value)
        } else if let bool = try? container.decode(Bool.self) {
            value = bool
        } else if let int = try? container.decode(Int64.self) {
            value = int
        } else if let double = try? container.decode(Double.self) {
            value = double
        } else if let string = try? container.decode(String.self) {
            value = string
        } else if container.decodeNil() {
            value = NSNull()
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unsupported value")
        }
    }
}
