import Foundation
import Hummingbird
import Logging
import Metrics

/// A GCRA (generic cell rate algorithm) limiter: `limit` requests per minute per key, with a burst
/// of up to `limit`. Each key keeps one number, its theoretical arrival time, so a client that
/// stays under the rate is never refused, and a refused one knows exactly when to retry. Replicas
/// on one PostgreSQL database keep the arrival times there (`SharedRateLimits`), so the limit
/// holds however a client's requests are spread; a single process keeps them in memory.
// Sendable: its lock guards the table of arrival times; nothing else is mutable.
final class RateLimiter: @unchecked Sendable {
    enum Decision: Equatable {
        case allowed
        case limited(retryAfterSeconds: Int)
    }

    let limit: Int
    private let interval: Double
    private let tolerance: Double
    private let lock = NSLock()
    private var arrival: [String: Double] = [:]
    /// Requests and WebSocket upgrades refused, for the metrics backend.
    private let refusals = Counter(label: "stelltron_rate_limited_total")
    private let shared: (any SharedRateLimits)?
    private let logger: Logger

    init(limitPerMinute: Int, shared: (any SharedRateLimits)? = nil, logger: Logger = Logger(label: "stelltron")) {
        limit = limitPerMinute
        interval = 60.0 / Double(max(limitPerMinute, 1))
        tolerance = 60.0 - interval
        self.shared = shared
        self.logger = logger
    }

    func check(_ key: String, at now: Date) async -> Decision {
        let t = now.timeIntervalSince1970
        guard let shared else { return checkHere(key, at: t) }
        do {
            guard let wait = try await shared.admit(key, now: t, interval: interval, tolerance: tolerance) else { return .allowed }
            refusals.increment()
            return .limited(retryAfterSeconds: max(1, Int(wait.rounded(.up))))
        } catch {
            // The database is what every request needs anyway: an outage shows there, and the
            // limit should not turn it into refusals of its own.
            logger.warning("shared rate limit unavailable; request admitted", metadata: ["error": .string(String(reflecting: error))])
            return .allowed
        }
    }

    /// `check` without waiting, when the arrival times are this process's own; nil when they
    /// are shared through the database (only `check` can ask it).
    func checkNow(_ key: String, at now: Date) -> Decision? {
        shared == nil ? checkHere(key, at: now.timeIntervalSince1970) : nil
    }

    private func checkHere(_ key: String, at t: Double) -> Decision {
        lock.withLock {
            let theoretical = max(arrival[key] ?? t, t)
            if theoretical - t > tolerance {
                refusals.increment()
                return .limited(retryAfterSeconds: max(1, Int((theoretical - tolerance - t).rounded(.up))))
            }
            arrival[key] = theoretical + interval
            if arrival.count > 50_000 { arrival = arrival.filter { $0.value > t } }
            return .allowed
        }
    }
}

extension RateLimiter {
    /// The host's limiter: nil when the limit is off; shared through the database when replicas share one.
    static func forHost(_ runtime: PluginRuntime) -> RateLimiter? {
        let limit = runtime.configuration.rateLimitPerMinute
        guard limit > 0 else { return nil }
        return RateLimiter(limitPerMinute: limit, shared: runtime.store.makeSharedRateLimits(logger: runtime.logger), logger: runtime.logger)
    }
}

/// Answers 429 with `Retry-After` and the JSON error once a client IP exceeds its rate.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = HostRequestContext
    let limiter: RateLimiter
    let clock: @Sendable () -> Date

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch await limiter.check(context.clientIP, at: clock()) {
        case .allowed:
            return try await next(request, context)
        case .limited(let seconds):
            let refusal = Self.refusal(limit: limiter.limit, retryAfter: seconds)
            return JSONResponse.make(status: .tooManyRequests, body: refusal.body, headers: refusal.headers)
        }
    }

    /// The 429's body and headers, also for requests the event loop answers itself.
    static func refusal(limit: Int, retryAfter seconds: Int) -> (body: Data, headers: HTTPFields) {
        (JSONText.error(message(limit: limit, retryAfter: seconds)), [.retryAfter: String(seconds)])
    }

    /// The refusal's words, also the close reason of a refused WebSocket upgrade.
    static func message(limit: Int, retryAfter seconds: Int) -> String {
        "rate limit of \(limit) requests per minute exceeded; retry in \(seconds) s"
    }
}
