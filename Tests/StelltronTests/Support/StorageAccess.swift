import Foundation
import StelltronPluginKit
import StelltronRuntime

/// Direct storage access for tests that tamper with or inspect tables, on whichever engine the
/// runtime uses (SQLite or PostgreSQL): plain SQL with `?`, as plugins write it.
extension PluginRuntime {
    func rows(_ sql: String, _ parameters: [JSONValue] = []) async throws -> [[String: JSONValue]] {
        try await store.read { session in try session.rows(sql, parameters) }
    }

    func run(_ statements: String..., parameters: [JSONValue] = []) async throws {
        try await store.writeTransaction { session in
            for statement in statements { try session.run(statement, parameters) }
        }
    }
}
