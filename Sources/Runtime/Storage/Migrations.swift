import Foundation
import GRDB

/// Applies a plugin's pending migrations, all of them in one transaction, and records each.
enum Migrations {
    struct Outcome: Equatable {
        var applied: [String]
        var tablesCreated: [String]
    }

    static func apply(_ migrations: [PluginDeclaration.Migration], plugin: String, file: String, store: Store) throws -> Outcome {
        do {
            return try store.pool.write { db in
                let done = try Set(String.fetchAll(db, sql: "SELECT migration_id FROM host_migrations WHERE plugin_id = ?", arguments: [plugin]))
                let tablesBefore = try Set(String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
                var applied: [String] = []
                for migration in migrations where !done.contains(migration.id) {
                    do {
                        try db.execute(sql: migration.sql)
                    } catch let error as DatabaseError {
                        throw PluginLoadError(file: file, "migration \(migration.id) failed: \(error.message ?? error.description)")
                    }
                    try db.execute(
                        sql: "INSERT INTO host_migrations (plugin_id, migration_id, applied_at) VALUES (?, ?, ?)",
                        arguments: [plugin, migration.id, ISO8601DateFormatter().string(from: Date())])
                    applied.append(migration.id)
                }
                let tablesAfter = try Set(String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
                return Outcome(applied: applied, tablesCreated: tablesAfter.subtracting(tablesBefore).sorted())
            }
        } catch let error as PluginLoadError {
            throw error
        }
    }
}
