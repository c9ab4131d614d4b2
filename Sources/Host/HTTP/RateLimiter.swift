import Foundation
import Hummingbird
import Metrics

/// A GCRA (generic cell rate algorithm) limiter: `limit` requests per minute per key, with a burst
/// of up to `limit`. Each key keeps one number, its theoretical arrival time, so a client that
/// stays under the rate is never refused, and a refused one knows exactly when to retry.
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

    init(limitPerMinute: Int) {
        limit = limitPerMinute
        interval = 60.0 / Double(max(limitPerMinute, 1))
        tolerance = 60.0 - interval
    }

    func check(_ key: String, at now: Date) -> Decision {
        let t = now.timeIntervalSince1970
        return lock.withLock {
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

/// Answers 429 with `Retry-After` and the JSON error once a client IP exceeds its rate.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = HostRequestContext
    let limiter: RateLimiter
    let clock: @Sendable () -> Date

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch limiter.check(context.clientIP, at: clock()) {
        case .allowed:
            return try await next(request, context)
        case .limited(let seconds):
            return JSONResponse.make(
                status: .tooManyRequests,
                body: JSONText.error("rate limit of \(limiter.limit) requests per minute exceeded; retry in \(seconds) s"),
                headers: [.retryAfter: String(seconds)])
        }
    }
}
