import Foundation
import Metrics

/// What the runtime counts and times, through swift-metrics: no cost beyond a no-op call until the
/// server bootstraps a backend (Prometheus, `[host] metrics_bind`). The per-plugin handles are made
/// once at load, so a call looks nothing up.
final class CallMetrics: Sendable {
    /// The kinds of plugin call timed, as the `kind` label says them.
    static let kinds = ["route", "service", "tick", "event", "load"]

    private let callTimers: [String: Timer]
    private let lastTicks: [String: Gauge]
    let batchSize = Recorder(label: "stelltron_group_commit_batch_size", aggregate: true)
    let commitDuration = Timer(label: "stelltron_group_commit_duration_seconds", preferredDisplayUnit: .seconds)
    let storageErrors = Counter(label: "stelltron_storage_errors_total")

    init(plugins: [String]) {
        var timers: [String: Timer] = [:]
        var ticks: [String: Gauge] = [:]
        for plugin in plugins {
            for kind in Self.kinds {
                timers["\(plugin)|\(kind)"] = Timer(label: "stelltron_plugin_call_duration_seconds",
                                                    dimensions: [("plugin", plugin), ("kind", kind)], preferredDisplayUnit: .seconds)
            }
            ticks[plugin] = Gauge(label: "stelltron_tick_last_success_timestamp_seconds", dimensions: [("plugin", plugin)])
        }
        callTimers = timers
        lastTicks = ticks
    }

    /// Runs `body`, timing it as a `kind` call into `plugin`.
    func measure<Answer>(_ plugin: String, _ kind: String, _ body: () -> Answer) -> Answer {
        guard let timer = callTimers["\(plugin)|\(kind)"] else { return body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer { timer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start)) }
        return body()
    }

    func tickSucceeded(_ plugin: String, at date: Date) {
        lastTicks[plugin]?.record(date.timeIntervalSince1970)
    }
}
