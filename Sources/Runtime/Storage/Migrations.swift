import CSodium
import Foundation
import GRDB

/// Applies a plugin's pending migrations, all of them in one transaction, and records each with
/// the SHA-256 of its SQL. A migration that shipped is never edited (ABI.md): one whose SQL no
/// longer matches what was applied is refused at startup, naming it, instead of leaving the
/// database and the code disagreeing silently.
enum Migrations {
    struct Outcome: Equatable {
        var applied: [String]
        var tablesCreated: [String]
    }

    static func apply(_ migrations: [PluginDeclaration.Migration], plugin: String, file: String, store: Store) throws -> Outcome {
        try store.pool.write { db in
            var recorded: [String: String?] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT migration_id, checksum FROM host_migrations WHERE plugin_id = ?", arguments: [plugin]) {
                recorded[row["migration_id"]] = row["checksum"] as String?
            }
            let tablesBefore = try Set(String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
            var applied: [String] = []
            for migration in migrations {
                let checksum = Self.checksum(migration.sql)
                if let stored = recorded[migration.id] {
                    guard let stored else {
                        // Applied before checksums were kept: adopt the current text.
                        try db.execute(sql: "UPDATE host_migrations SET checksum = ? WHERE plugin_id = ? AND migration_id = ?",
                                       arguments: [checksum, plugin, migration.id])
                        continue
                    }
                    guard stored == checksum else {
                        throw PluginLoadError(file: file, "migration \(migration.id) was edited after it was applied (its SQL's SHA-256 is \(checksum.prefix(12))…, the database applied \(stored.prefix(12))…): add a new migration instead")
                    }
                    continue
                }
                do {
                    try db.execute(sql: migration.sql)
                } catch let error as DatabaseError {
                    throw PluginLoadError(file: file, "migration \(migration.id) failed: \(error.message ?? error.description)")
                }
                try db.execute(
                    sql: "INSERT INTO host_migrations (plugin_id, migration_id, applied_at, checksum) VALUES (?, ?, ?, ?)",
                    arguments: [plugin, migration.id, ISO8601DateFormatter().string(from: Date()), checksum])
                applied.append(migration.id)
            }
            let tablesAfter = try Set(String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
            return Outcome(applied: applied, tablesCreated: tablesAfter.subtracting(tablesBefore).sorted())
        }
    }

    /// Lower-case hex SHA-256 of a migration's SQL, exactly as declared.
    static func checksum(_ sql: String) -> String {
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        let bytes = Array(sql.utf8)
        crypto_hash_sha256(&digest, bytes, UInt64(bytes.count))
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}
