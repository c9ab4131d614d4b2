import Foundation
import StelltronPluginKit

/// One setting of `[host]` or `[auth]`: where it can come from and how it lands in a
/// `HostConfiguration`. Every key follows one rule — command-line option, else environment
/// variable, else plugins.conf, else the default — applied once, by `ConfigurationSources`.
/// The README's configuration table lists exactly these keys (a test compares them).
public struct ConfigurationKey: Sendable {
    public enum Kind: String, Sendable {
        case integer, number, boolean, string, strings

        /// Reads an environment variable's or command-line option's text as this kind of value.
        func value(ofText text: String) -> JSONValue? {
            switch self {
            case .integer: return Int64(text).map(JSONValue.int)
            case .number: return Double(text).map(JSONValue.double)
            case .boolean: return ["true": true, "false": false][text.lowercased()].map(JSONValue.bool)
            case .string: return .string(text)
            // A list in one variable: comma-separated, blanks around the commas ignored.
            case .strings:
                return .array(text.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 != "" })
            }
        }
    }

    public let section: String
    public let name: String
    public let kind: Kind
    /// The environment variable that sets it.
    public let environment: String
    /// The `stelltron serve` option that sets it, without dashes.
    public let option: String?
    /// The default, as the README's table writes it.
    public let defaultText: String
    public let summary: String
    /// Stores a value of `kind` into the configuration, or answers why the value is refused.
    let apply: @Sendable (inout HostConfiguration, JSONValue) -> String?

    /// `host.port`.
    public var path: String { "\(section).\(name)" }
}

extension ConfigurationKey {
    public static let all: [ConfigurationKey] = host + auth

    static func named(_ path: String) -> ConfigurationKey? {
        all.first { $0.path == path }
    }

    static let host: [ConfigurationKey] = [
        integer("port", \.port, in: 0...65535, option: "port", "TCP port of the HTTP server"),
        string("bind", \.host, option: "bind", "address to listen on; \"0.0.0.0\" accepts other machines"),
        string("database", \.databasePath, option: "database",
               "SQLite file (`:memory:`: a private temporary one), or postgres://USER[:PASSWORD]@HOST:PORT/DBNAME for replicas"),
        .init(section: "host", name: "plugin_dir", kind: .string, environment: "STELLTRON_PLUGIN_DIR", option: nil,
              defaultText: "the executable's folder", summary: "where plugin libraries named without a path are found") { configuration, value in
            configuration.pluginDirectory = value.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            return nil
        },
        integer("body_limit_bytes", \.bodyLimitBytes, in: 1...Int.max, "larger request bodies get 413"),
        seconds("sse_keepalive_seconds", \.sseKeepAliveSeconds, "comment line on idle /iot/events streams"),
        integer("event_replay_capacity", \.eventReplayCapacity, in: 0...Int.max, "events kept for Last-Event-ID replay"),
        integer("subscriber_queue_capacity", \.subscriberQueueCapacity, in: 1...Int.max, "undelivered events before a slow subscriber is dropped"),
        integer("subscriber_queue_bytes", \.subscriberQueueBytes, in: 1024...Int.max, "undelivered bytes before a slow subscriber is dropped"),
        integer("event_max_bytes", \.eventMaxBytes, in: 256...Int.max, "the largest event payload a plugin may publish (compact JSON)"),
        integer("slow_read_ms", \.slowReadMilliseconds, in: 1...Int.max, "a read route whose reads average longer reads on reader threads, off the event loop"),
        integer("event_loops", \.eventLoops, in: 0...1024, "event-loop threads serving HTTP; 0 = three per core"),
        seconds("request_timeout_seconds", \.connections.requestTimeoutSeconds, "a request must arrive whole (headers and body) within this"),
        seconds("idle_timeout_seconds", \.connections.idleTimeoutSeconds, "nothing sent either way for this long: the connection is closed"),
        integer("max_connections_per_ip", \.connections.maxConnectionsPerIP, in: 1...Int.max, "open connections per client address (trusted proxies exempt)"),
        integer("max_subscribers_per_ip", \.connections.maxSubscribersPerIP, in: 1...Int.max, "live feeds (/iot/events and /ws/market together) per client address"),
        strings("required_slots", \.requiredSlots, "slots that must be filled or the host refuses to start"),
        .init(section: "host", name: "periodic_work", kind: .boolean, environment: "STELLTRON_PERIODIC_WORK", option: nil,
              defaultText: "true", summary: "run the plugins' ticks (on PostgreSQL: on the one replica holding the lease)") { configuration, value in
            guard case .bool(let flag) = value else { return "must be true or false" }
            configuration.periodicWork = flag
            return nil
        },
        integer("rate_limit_per_minute", \.rateLimitPerMinute, in: 0...Int.max, "requests per minute per client address (GCRA); 0 = off"),
        strings("trusted_proxies", \.trustedProxies, "peers whose X-Forwarded-For is believed"),
        strings("cors_allowed_origins", \.corsAllowedOrigins, "web frontends allowed by CORS; \"*\" = any, without credentials"),
        .init(section: "host", name: "metrics_bind", kind: .string, environment: "STELLTRON_METRICS_BIND", option: nil,
              defaultText: "\"\" (off)", summary: "HOST:PORT of the Prometheus /metrics listener, apart from the public port") { configuration, value in
            guard let text = value.stringValue else { return "must be a string, HOST:PORT" }
            if !text.isEmpty {
                guard let colon = text.lastIndex(of: ":"), colon != text.startIndex, let port = Int(text[text.index(after: colon)...]),
                      (0...65535).contains(port) else { return "must be HOST:PORT, e.g. 127.0.0.1:9464" }
            }
            configuration.metricsBind = text
            return nil
        },
        choice("log_level", \.logLevel, ["trace", "debug", "info", "notice", "warning", "error", "critical"], environment: "LOG_LEVEL",
               "the lowest level logged"),
        choice("log_format", \.logFormat, ["text", "json"], environment: "LOG_FORMAT", "`json`: one JSON object per line, for a log shipper"),
    ]

    static let auth: [ConfigurationKey] = [
        .init(section: "auth", name: "require_challenge", kind: .boolean, environment: "STELLTRON_REQUIRE_CHALLENGE", option: nil,
              defaultText: "false", summary: "accept only one-time messages from POST /api/v1/auth/challenge") { configuration, value in
            guard case .bool(let flag) = value else { return "must be true or false" }
            configuration.auth.requireChallenge = flag
            return nil
        },
        .init(section: "auth", name: "jwt_secret", kind: .string, environment: "STELLTRON_JWT_SECRET", option: nil,
              defaultText: "generated into `jwt-secret` beside the database", summary: "HS256 secret, at least 32 bytes") { configuration, value in
            guard let secret = value.stringValue else { return "must be a string" }
            guard secret.isEmpty || secret.utf8.count >= 32 else { return "must be at least 32 bytes" }
            configuration.auth.jwtSecret = secret.isEmpty ? nil : secret
            return nil
        },
        seconds("access_token_seconds", \.auth.accessTokenSeconds, section: "auth", "lifetime of an access token"),
        .init(section: "auth", name: "refresh_token_days", kind: .number, environment: "STELLTRON_REFRESH_TOKEN_DAYS", option: nil,
              defaultText: "7", summary: "lifetime of a refresh token") { configuration, value in
            guard let days = value.doubleValue, days > 0, days.isFinite else { return "must be a positive number" }
            configuration.auth.refreshTokenSeconds = days * 86_400
            return nil
        },
        seconds("challenge_seconds", \.auth.challengeSeconds, section: "auth", "lifetime of a sign-in challenge"),
    ]

    // MARK: - Kinds of key

    private static func environmentName(_ name: String) -> String { "STELLTRON_" + name.uppercased() }

    private static func integer(_ name: String, _ keyPath: WritableKeyPath<HostConfiguration, Int> & Sendable, in range: ClosedRange<Int>,
                                option: String? = nil, _ summary: String) -> ConfigurationKey {
        let rule = range.upperBound == Int.max ? "a whole number ≥ \(range.lowerBound)" : "a whole number from \(range.lowerBound) to \(range.upperBound)"
        return .init(section: "host", name: name, kind: .integer, environment: environmentName(name), option: option,
                     defaultText: String(HostConfiguration()[keyPath: keyPath]), summary: summary) { configuration, value in
            guard let number = value.int64Value, let int = Int(exactly: number), range.contains(int) else { return "must be \(rule)" }
            configuration[keyPath: keyPath] = int
            return nil
        }
    }

    private static func seconds(_ name: String, _ keyPath: WritableKeyPath<HostConfiguration, Double> & Sendable, section: String = "host",
                                _ summary: String) -> ConfigurationKey {
        .init(section: section, name: name, kind: .number, environment: environmentName(name), option: nil,
              defaultText: Self.number(HostConfiguration()[keyPath: keyPath]), summary: summary) { configuration, value in
            guard let seconds = value.doubleValue, seconds > 0, seconds.isFinite else { return "must be a positive number" }
            configuration[keyPath: keyPath] = seconds
            return nil
        }
    }

    private static func string(_ name: String, _ keyPath: WritableKeyPath<HostConfiguration, String> & Sendable, option: String? = nil,
                               _ summary: String) -> ConfigurationKey {
        .init(section: "host", name: name, kind: .string, environment: environmentName(name), option: option,
              defaultText: "\"\(HostConfiguration()[keyPath: keyPath])\"", summary: summary) { configuration, value in
            guard let text = value.stringValue, !text.isEmpty else { return "must be a non-empty string" }
            configuration[keyPath: keyPath] = text
            return nil
        }
    }

    private static func strings(_ name: String, _ keyPath: WritableKeyPath<HostConfiguration, [String]> & Sendable,
                                _ summary: String) -> ConfigurationKey {
        .init(section: "host", name: name, kind: .strings, environment: environmentName(name), option: nil,
              defaultText: "[]", summary: summary) { configuration, value in
            guard case .array(let items) = value else { return "must be a list of strings" }
            let texts = items.compactMap(\.stringValue)
            guard texts.count == items.count else { return "must be a list of strings" }
            configuration[keyPath: keyPath] = texts
            return nil
        }
    }

    private static func choice(_ name: String, _ keyPath: WritableKeyPath<HostConfiguration, String> & Sendable, _ choices: [String],
                               environment: String, _ summary: String) -> ConfigurationKey {
        .init(section: "host", name: name, kind: .string, environment: environment, option: nil,
              defaultText: "\"\(HostConfiguration()[keyPath: keyPath])\"", summary: summary) { configuration, value in
            guard let text = value.stringValue, choices.contains(text) else { return "must be one of \(choices.joined(separator: ", "))" }
            configuration[keyPath: keyPath] = text
            return nil
        }
    }

    private static func number(_ value: Double) -> String {
        value.rounded() == value ? String(Int(value)) : String(value)
    }
}

extension ConfigurationKey {
    /// The README's table of every key (`stelltron config` prints it; a test keeps the README equal).
    public static func markdownTable() -> String {
        var lines = ["| key | environment | option | default | meaning |", "| --- | --- | --- | --- | --- |"]
        for key in all {
            lines.append("| `\(key.path)` | `\(key.environment)` | \(key.option.map { "`--\($0)`" } ?? "") | \(key.defaultText) | \(key.summary) |")
        }
        return lines.joined(separator: "\n")
    }
}
