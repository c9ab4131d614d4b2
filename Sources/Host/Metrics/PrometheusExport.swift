import Foundation
import Metrics
import Prometheus

/// The process's metrics backend: swift-metrics bootstrapped once with a Prometheus registry,
/// which `/metrics` (on `[host] metrics_bind`) writes out in the text format. Bootstrap before
/// the runtime loads, so that the handles it makes at load record into the registry.
public enum PrometheusExport {
    /// swift-metrics can be bootstrapped once per process; this does it on first use.
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Plugin calls and commits take microseconds to tens of milliseconds (seconds).
        factory.defaultDurationHistogramBuckets = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .microseconds(2500),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
            .milliseconds(500), .seconds(1), .milliseconds(2500),
        ]
        factory.valueHistogramBuckets = ["stelltron_group_commit_batch_size": [1, 2, 4, 8, 16, 32, 64, 128]]
        // Prometheus names allow [a-zA-Z0-9_:]; Hummingbird's are dotted (`http.server.request.duration`).
        factory.nameAndLabelSanitizer = { name, labels in
            (sanitized(name), labels.map { (sanitized($0.0), $0.1) })
        }
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    private static func sanitized(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" ? $0 : "_" })
    }

    /// Bootstraps the backend if it is not yet (idempotent).
    public static func bootstrap() {
        _ = registry
    }

    /// The Prometheus text format of every metric recorded so far.
    static func text() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return buffer
    }
}
