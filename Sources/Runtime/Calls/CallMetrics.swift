import Foundation
import Metrics

/// What the runtime counts and times, through swift-metrics: no cost beyond a no-op call until the
/// server bootstraps a backend (Prometheus, `[host] metrics_bind`). The per-plugin handles are made
/// once at load; a call looks up its plugin's timers by id, and when nothing scrapes the timers
/// (`timed` false) it reads no clock at all.
final class CallMetrics: Sendable {
    /// The kinds of plugin call timed; the case name is the `kind` label.
    enum Kind: Int, CaseIterable {
        case route, service, tick, event, load
    }

    /// plugin id → one timer per `Kind`, indexed by its raw value.
    private let callTimers: [String: [Timer]]
    private let timed: Bool
    private let lastTicks: [String: Gauge]
    let batchSize = Recorder(label: "stelltron_group_commit_batch_size", aggregate: true)
    let commitDuration = Timer(label: "stelltron_group_commit_duration_seconds", preferredDisplayUnit: .seconds)
    let storageErrors = Counter(label: "stelltron_storage_errors_total")

    init(plugins: [String], timed: Bool) {
        var timers: [String: [Timer]] = [:]
        var ticks: [String: Gauge] = [:]
        for plugin in plugins {
            timers[plugin] = Kind.allCases.map { kind in
                Timer(label: "stelltron_plugin_call_duration_seconds",
                      dimensions: [("plugin", plugin), ("kind", "\(kind)")], preferredDisplayUnit: .seconds)
            }
            ticks[plugin] = Gauge(label: "stelltron_tick_last_success_timestamp_seconds", dimensions: [("plugin", plugin)])
        }
        callTimers = timers
        lastTicks = ticks
        self.timed = timed
    }

    /// Runs `body`, timing it as a `kind` call into `plugin`.
    @inline(__always)
    func measure<Answer>(_ plugin: String, _ kind: Kind, _ body: () -> Answer) -> Answer {
        guard timed, let timer = callTimers[plugin]?[kind.rawValue] else { return body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer { timer.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start)) }
        return body()
    }

    func tickSucceeded(_ plugin: String, at date: Date) {
        lastTicks[plugin]?.record(date.timeIntervalSince1970)
    }
}
