import Foundation
import Hummingbird
import Metrics
import NIOCore

/// `GET /metrics` in the Prometheus text format, on its own listener (`[host] metrics_bind`),
/// never on the public port. Figures that are states rather than events — the ledger's size and
/// supply, live subscribers — are read at scrape time.
enum MetricsEndpoint {
    /// The metrics listener as a service of the server, or nil when `metrics_bind` is empty.
    static func server(runtime: PluginRuntime) throws -> (any ApplicationProtocol)? {
        guard let (host, port) = try address(runtime.configuration.metricsBind) else { return nil }
        return Application(router: buildMetricsRouter(runtime: runtime),
                           configuration: .init(address: .hostname(host, port: port), serverName: "stelltron-metrics"),
                           logger: runtime.logger)
    }

    fileprivate static func makeRouter(runtime: PluginRuntime) -> Router<BasicRequestContext> {
        let gauges = ScrapeGauges()
        let router = Router()
        router.get("/metrics") { _, _ -> Response in
            await gauges.refresh(runtime)
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: PrometheusExport.text())))
        }
        return router
    }

    /// `127.0.0.1:9464` → ("127.0.0.1", 9464); "" → nil.
    static func address(_ bind: String) throws -> (String, Int)? {
        guard !bind.isEmpty else { return nil }
        guard let colon = bind.lastIndex(of: ":"), let port = Int(bind[bind.index(after: colon)...]), (0...65535).contains(port) else {
            throw ConfigurationError(file: "host.metrics_bind", message: "must be HOST:PORT, e.g. 127.0.0.1:9464")
        }
        return (String(bind[..<colon]), port)
    }

    /// Gauges set from the runtime's state on every scrape.
    private final class ScrapeGauges: Sendable {
        let subscribers = Gauge(label: "stelltron_event_subscribers")
        let ledgerEntries = Gauge(label: "stelltron_ledger_entries")
        let supply = Gauge(label: "stelltron_lt_circulating_supply")
        let minted = Gauge(label: "stelltron_lt_minted_total")

        func refresh(_ runtime: PluginRuntime) async {
            subscribers.record(runtime.hub.subscriberCount)
            // The ledger's own figures, on a read snapshot, when the ledger is loaded.
            guard runtime.plugins.contains(where: { $0.id == "ledger" }),
                  let answer = try? await runtime.callService("ledger.stats", json: Data("{}".utf8), readOnly: true), answer.status == 0,
                  let stats = try? JSONSerialization.jsonObject(with: answer.body) as? [String: Any] else { return }
            if let entries = stats["total_entries"] as? Int { ledgerEntries.record(entries) }
            if let circulating = stats["circulating_supply"] as? Double { supply.record(circulating) }
            if let total = stats["total_minted"] as? Double { minted.record(total) }
        }
    }
}

/// The router of the metrics listener on its own, for tests: `GET /metrics` and nothing else.
public func buildMetricsRouter(runtime: PluginRuntime) -> Router<BasicRequestContext> {
    MetricsEndpoint.makeRouter(runtime: runtime)
}
