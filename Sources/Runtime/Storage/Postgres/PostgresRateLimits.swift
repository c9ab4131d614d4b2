import Foundation
import Logging
import PostgresNIO

/// `SharedRateLimits` in the table `host_rate_limits`: one upsert per request, which PostgreSQL's
/// row lock makes atomic across replicas (two replicas admitting the same address's requests at
/// the same moment both move its arrival time).
final class PostgresRateLimits: SharedRateLimits, @unchecked Sendable {
    // Sendable: `lock` guards `admitted`; the engine is Sendable.
    private let engine: PostgresEngine
    private let logger: Logger
    private let lock = NSLock()
    private var admitted = 0

    init(engine: PostgresEngine, logger: Logger) {
        self.engine = engine
        self.logger = logger
    }

    func admit(_ key: String, now: Double, interval: Double, tolerance: Double) async throws -> Double? {
        let prune = lock.withLock {
            admitted += 1
            return admitted % 4096 == 0
        }
        return try await engine.autocommit { session in
            var binds = PostgresBindings(capacity: 4)
            binds.append(key)
            binds.append(now)
            binds.append(interval)
            binds.append(tolerance)
            let admitted = try session.native(PostgresQuery(unsafeSQL: """
                INSERT INTO host_rate_limits AS limits (key, arrival) VALUES ($1, $2 + $3)
                ON CONFLICT (key) DO UPDATE SET arrival = GREATEST(limits.arrival, $2) + $3
                WHERE GREATEST(limits.arrival, $2) - $2 <= $4
                RETURNING arrival
                """, binds: binds))
            if prune {
                // Keys whose arrival time has passed hold nothing back: forget them.
                var old = PostgresBindings()
                old.append(now)
                _ = try session.native(PostgresQuery(unsafeSQL: "DELETE FROM host_rate_limits WHERE arrival < $1", binds: old))
            }
            guard admitted.rows.isEmpty else { return nil }
            var lookup = PostgresBindings()
            lookup.append(key)
            let arrival = try session.native(PostgresQuery(unsafeSQL: "SELECT arrival FROM host_rate_limits WHERE key = $1", binds: lookup))
                .rows.first?.makeRandomAccess()[0].decode(Double.self) ?? now
            return max(arrival - tolerance - now, 0)
        }
    }
}
