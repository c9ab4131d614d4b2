import Foundation
import StelltronHost
import Testing

@Suite("plugins.conf")
struct ConfigurationTests {
    @Test func parsesHostPluginsConfigAndSlots() throws {
        let configuration = try HostConfiguration.parse("""
            [host]
            port = 9090
            database = "/tmp/x.sqlite"
            body_limit_bytes = 1024
            required_slots = ["pricing"]

            [[plugin]]
            id = "ledger"
            library = "libStelltronLedger.so"

            [[plugin]]
            id = "market"
            library = "/opt/libStelltronMarket.so"
            [plugin.config]
            base_price = 5.5
            zone = "Europe/Madrid"

            [slots]
            pricing = "market"
            """)
        #expect(configuration.port == 9090)
        #expect(configuration.databasePath == "/tmp/x.sqlite")
        #expect(configuration.bodyLimitBytes == 1024)
        #expect(configuration.requiredSlots == ["pricing"])
        #expect(configuration.plugins.map(\.id) == ["ledger", "market"])
        #expect(configuration.slots == ["pricing": "market"])
        #expect(configuration.plugins[1].config == ["base_price": 5.5, "zone": "Europe/Madrid"])
    }

    @Test func syntaxErrorNamesTheLine() {
        let error = #expect(throws: ConfigurationError.self) {
            try HostConfiguration.parse("[host]\nport = 1\n[[plugin]\nid = \"x\"\n", file: "my.conf")
        }
        #expect(error?.description.hasPrefix("my.conf: TOML syntax error at line 3") == true)
    }

    @Test func rejectsDuplicatePluginsAndMissingKeys() {
        #expect(throws: ConfigurationError.self) {
            try HostConfiguration.parse("[[plugin]]\nid = \"a\"\nlibrary = \"a.so\"\n[[plugin]]\nid = \"a\"\nlibrary = \"b.so\"\n")
        }
        let missing = #expect(throws: ConfigurationError.self) { try HostConfiguration.parse("[[plugin]]\nid = \"a\"\n") }
        #expect(missing?.message.contains("library") == true)
        #expect(throws: ConfigurationError.self) { try HostConfiguration.parse("[host]\nport = 70000\n") }
        #expect(throws: ConfigurationError.self) { try HostConfiguration.parse("[host]\nport = \"eighty\"\n") }
    }

    @Test func theShippedFileLoads() throws {
        let path = Fixtures.repositoryRoot.appendingPathComponent("plugins.conf").path
        let configuration = try HostConfiguration.load(path: path)
        #expect(configuration.plugins.map(\.id) == ["ledger", "market", "iot", "defi", "depin"])
        #expect(configuration.databasePath == "./data/stelltron.sqlite")
        #expect(configuration.port == 8080)
        // The shipped trust policy is the safe one.
        #expect(configuration.plugins[2].config["trust"] == "commissioned")
        #expect(configuration.connections == ConnectionSettings())
    }

    @Test func hostLimitsAreReadAndChecked() throws {
        let configuration = try HostConfiguration.parse("""
            [host]
            request_timeout_seconds = 5
            idle_timeout_seconds = 30
            max_connections_per_ip = 8
            max_subscribers_per_ip = 2
            event_max_bytes = 4096
            """)
        #expect(configuration.connections.requestTimeoutSeconds == 5 && configuration.connections.idleTimeoutSeconds == 30)
        #expect(configuration.connections.maxConnectionsPerIP == 8 && configuration.connections.maxSubscribersPerIP == 2)
        #expect(configuration.eventMaxBytes == 4096)
        for bad in ["request_timeout_seconds = 0", "max_connections_per_ip = 0", "max_subscribers_per_ip = -1", "event_max_bytes = 10",
                    "idle_timeout_seconds = 10\nsse_keepalive_seconds = 15"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try HostConfiguration.parse("[host]\n\(bad)\n") }
        }
    }
}

/// The one rule: option > environment > plugins.conf > default, for every key, and unknown keys
/// refused with their line.
@Suite("configuration sources")
struct ConfigurationSourcesTests {
    private func resolve(_ text: String, environment: [String: String] = [:], options: [String: String] = [:]) throws -> HostConfiguration {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("stelltron-\(UUID().uuidString).conf")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        return try ConfigurationSources(file: file.path, environment: environment, options: options).resolve()
    }

    @Test func optionBeatsEnvironmentBeatsFileBeatsDefault() throws {
        let file = "[host]\nport = 7001\nbind = \"10.0.0.1\"\nrate_limit_per_minute = 5\nlog_level = \"debug\"\n[auth]\njwt_secret = \"\(String(repeating: "f", count: 32))\"\n"
        let fileOnly = try resolve(file)
        #expect(fileOnly.port == 7001 && fileOnly.host == "10.0.0.1" && fileOnly.rateLimitPerMinute == 5 && fileOnly.logLevel == "debug")
        #expect(fileOnly.auth.jwtSecret == String(repeating: "f", count: 32))
        #expect(fileOnly.bodyLimitBytes == HostConfiguration().bodyLimitBytes)

        let environment = ["STELLTRON_PORT": "7002", "STELLTRON_BIND": "10.0.0.2", "STELLTRON_RATE_LIMIT_PER_MINUTE": "6", "LOG_LEVEL": "error",
                           "STELLTRON_JWT_SECRET": String(repeating: "e", count: 32), "STELLTRON_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.9"]
        let withEnvironment = try resolve(file, environment: environment)
        #expect(withEnvironment.port == 7002 && withEnvironment.host == "10.0.0.2" && withEnvironment.rateLimitPerMinute == 6)
        #expect(withEnvironment.logLevel == "error")
        // The JWT secret follows the same rule as every other key: the environment wins.
        #expect(withEnvironment.auth.jwtSecret == String(repeating: "e", count: 32))
        #expect(withEnvironment.trustedProxies == ["127.0.0.1", "10.0.0.9"])

        let withOptions = try resolve(file, environment: environment, options: ["port": "7003", "bind": "10.0.0.3", "database": "/tmp/o.sqlite"])
        #expect(withOptions.port == 7003 && withOptions.host == "10.0.0.3" && withOptions.databasePath == "/tmp/o.sqlite")
    }

    @Test func everyKeyIsReadFromTheEnvironment() throws {
        let samples: [ConfigurationKey.Kind: String] = [.integer: "2000", .number: "30", .boolean: "true", .string: "json", .strings: "a,b"]
        let defaults = try HostConfiguration.parse("")
        for key in ConfigurationKey.all {
            var text = samples[key.kind]!
            if key.path == "host.log_level" { text = "debug" }
            if key.path == "auth.jwt_secret" { text = String(repeating: "s", count: 40) }
            if key.path == "host.port" { text = "2001" }
            if key.path == "host.event_loops" { text = "8" }
            if key.path == "host.metrics_bind" { text = "127.0.0.1:9999" }
            let configured = try resolve("", environment: [key.environment: text])
            #expect(configured != defaults, "\(key.environment) changed nothing")
        }
    }

    @Test func refusedValuesNameTheirSource() throws {
        let fromEnvironment = #expect(throws: ConfigurationError.self) { try resolve("", environment: ["STELLTRON_PORT": "eighty"]) }
        #expect(fromEnvironment?.description == "STELLTRON_PORT: host.port must be a whole number from 0 to 65535")
        let fromOption = #expect(throws: ConfigurationError.self) { try resolve("", options: ["port": "70000"]) }
        #expect(fromOption?.file == "--port")
        let fromFile = #expect(throws: ConfigurationError.self) { try HostConfiguration.parse("[host]\n\nmax_connections_per_ip = 0\n", file: "p.conf") }
        #expect(fromFile?.description == "p.conf:3: host.max_connections_per_ip must be a whole number ≥ 1")
        #expect(throws: ConfigurationError.self) { try resolve("", environment: ["STELLTRON_JWT_SECRET": "short"]) }
        #expect(throws: ConfigurationError.self) { try resolve("", environment: ["LOG_FORMAT": "xml"]) }
    }

    @Test func unknownKeysAreRefusedWithTheirLine() {
        let typo = #expect(throws: ConfigurationError.self) {
            try HostConfiguration.parse("# operator's file\n[host]\nport = 8080\nrate_limit_per_minut = 10\n", file: "plugins.conf")
        }
        #expect(typo?.description == "plugins.conf:4: unknown key 'rate_limit_per_minut' in [host] (did you mean 'rate_limit_per_minute'?)")
        let table = #expect(throws: ConfigurationError.self) { try HostConfiguration.parse("[host]\nport = 1\n\n[hots]\nx = 1\n", file: "c") }
        #expect(table?.description == "c:4: unknown table or key 'hots' (did you mean 'host'?)")
        let plugin = #expect(throws: ConfigurationError.self) {
            try HostConfiguration.parse("[[plugin]]\nid = \"a\"\nlibrary = \"a.so\"\n[[plugin]]\nid = \"b\"\nlibary = \"b.so\"\n", file: "c")
        }
        #expect(plugin?.description == "c:6: unknown key 'libary' in [[plugin]] (did you mean 'library'?)")
        let auth = #expect(throws: ConfigurationError.self) { try HostConfiguration.parse("[auth]\nrequire_chalenge = true\n", file: "c") }
        #expect(auth?.message.contains("did you mean 'require_challenge'") == true)
        // A plugin's own table is the plugin's business.
        #expect(throws: Never.self) { try HostConfiguration.parse("[[plugin]]\nid = \"a\"\nlibrary = \"a.so\"\n[plugin.config]\nanything = 1\n") }
    }

    /// The README's table is `ConfigurationKey.markdownTable()`, row for row.
    @Test func theReadmeListsEveryKey() throws {
        let readme = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains(ConfigurationKey.markdownTable()))
    }
}
