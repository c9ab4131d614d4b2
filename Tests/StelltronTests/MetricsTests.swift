import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import StelltronHost
import StelltronTesting
import Testing

/// Issue 18, item 1: `/metrics` in the Prometheus text format, on its own listener, with what an
/// operator watches: requests by route and status, plugin calls by plugin and kind, group-commit
/// batches, ticks, rate-limit refusals, the ledger's size and supply.
@Suite("metrics", .serialized)
struct MetricsTests {
    @Test func theMetricsListenerReportsWhatTheHostDid() async throws {
        // Before the runtime loads, so that the handles it makes record into the registry.
        PrometheusExport.bootstrap()
        var configuration = Fixtures.configuration([
            .init(id: "ledger", library: BuildProducts.library("StelltronLedger")),
            .init(id: "probe", library: Fixtures.probeLibrary),
        ])
        configuration.metricsBind = "127.0.0.1:0"
        configuration.rateLimitPerMinute = 4
        let runtime = try Fixtures.runtime(configuration)
        let probe = try #require(runtime.plugins.first { $0.id == "probe" })
        try await runtime.tick(probe)
        let minted = try await runtime.callService("ledger.mint", json: Data(#"{"account":"\#(TestWallet().address)","amount_micro":2500000,"reason":"test"}"#.utf8))
        #expect(minted.status == 0, "\(String(decoding: minted.body, as: UTF8.self))")
        try await buildApplication(runtime: runtime).test(.router) { client in
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
            let increment = try await client.execute(uri: "/api/v1/probe/increment", method: .post, body: ByteBuffer(string: #"{"name":"m","by":1}"#))
            #expect(increment.status == .created)
            // Found before the trie (`PluginRouteTable`), named as the trie names it.
            #expect(try await client.execute(uri: "/api/v1/ledger/balance/\(TestWallet().address)", method: .get).status == .ok)
            // The public port does not serve metrics.
            #expect(try await client.execute(uri: "/metrics", method: .get).status == .notFound)
            // Over the limit of 4 a minute: refused and counted.
            #expect(try await client.execute(uri: "/health", method: .get).status == .tooManyRequests)
        }
        let text = try await Application(router: buildMetricsRouter(runtime: runtime)).test(.router) { client in
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            return String(buffer: response.body)
        }
        let lines = text.split(separator: "\n").map(String.init)
        func value(_ prefix: String) -> Double? {
            lines.first { $0.hasPrefix(prefix) }.flatMap { Double($0.split(separator: " ").last ?? "") }
        }
        #expect(lines.contains { $0.hasPrefix("hb_requests{") && $0.contains(#"http_route="/health""#) && $0.contains(#"http_response_status_code="200""#) })
        #expect(lines.contains { $0.hasPrefix("http_server_request_duration_bucket{") && $0.contains(#"http_route="/api/v1/probe/increment""#) })
        #expect(lines.contains { $0.hasPrefix("hb_requests{") && $0.contains(#"http_route="/api/v1/ledger/balance/{wallet}""#) })
        #expect((value(#"stelltron_plugin_call_duration_seconds_count{plugin="probe",kind="route"}"#) ?? 0) >= 1)
        #expect((value(#"stelltron_plugin_call_duration_seconds_count{plugin="probe",kind="tick"}"#) ?? 0) >= 1)
        #expect((value(#"stelltron_plugin_call_duration_seconds_count{plugin="ledger",kind="service"}"#) ?? 0) >= 1)
        #expect((value("stelltron_group_commit_batch_size_count") ?? 0) >= 3)
        #expect((value(#"stelltron_tick_last_success_timestamp_seconds{plugin="probe"}"#) ?? 0) > 1_700_000_000)
        #expect((value("stelltron_rate_limited_total") ?? 0) >= 1)
        #expect((value("stelltron_ledger_entries") ?? 0) >= 1)
        #expect((value("stelltron_lt_circulating_supply") ?? 0) >= 2.5)
    }

    @Test func aBadMetricsAddressIsRefused() {
        #expect(throws: ConfigurationError.self) { try HostConfiguration.parse("[host]\nmetrics_bind = \"nowhere\"\n") }
        #expect(throws: Never.self) { try HostConfiguration.parse("[host]\nmetrics_bind = \"127.0.0.1:9464\"\n") }
    }
}
