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
        let config = try #require(try JSONSerialization.jsonObject(with: configuration.plugins[1].configJSON) as? [String: Any])
        #expect(config["base_price"] as? Double == 5.5)
        #expect(config["zone"] as? String == "Europe/Madrid")
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
        let iot = try #require(try JSONSerialization.jsonObject(with: configuration.plugins[2].configJSON) as? [String: Any])
        #expect(iot["trust"] as? String == "commissioned")
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
