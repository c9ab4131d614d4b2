import CSodium
import Foundation
import StelltronPluginKit

/// Applies a plugin's pending migrations, all of them in one write transaction, and records each
/// with the SHA-256 of its SQL. A migration that shipped is never edited (ABI.md): one whose SQL no
/// longer matches what was applied is refused at startup, naming it, instead of leaving the
/// database and the code disagreeing silently. On PostgreSQL the write transaction holds the
/// replicas' write lock, so replicas starting together apply each migration once.
enum Migrations {
    struct Outcome: Equatable {
        var applied: [String]
        var tablesCreated: [String]
    }

    static func apply(_ migrations: [PluginDeclaration.Migration], plugin: String, file: String, engine: StorageEngine) throws -> Outcome {
        try engine.writeTransactionNow { session in
            var recorded: [String: String?] = [:]
            for row in try session.rows("SELECT migration_id, checksum FROM host_migrations WHERE plugin_id = ?", [.string(plugin)]) {
                guard let id = row["migration_id"]?.stringValue else { continue }
                recorded[id] = row["checksum"]?.stringValue
            }
            let tablesBefore = try session.tableNames()
            var applied: [String] = []
            for migration in migrations {
                let checksum = Self.checksum(session.script(of: migration))
                if let stored = recorded[migration.id] {
                    guard let stored else {
                        // Applied before checksums were kept: adopt the current text.
                        try session.run("UPDATE host_migrations SET checksum = ? WHERE plugin_id = ? AND migration_id = ?",
                                        [.string(checksum), .string(plugin), .string(migration.id)])
                        continue
                    }
                    guard stored == checksum else {
                        throw PluginLoadError(file: file, "migration \(migration.id) was edited after it was applied (its SQL's SHA-256 is \(checksum.prefix(12))…, the database applied \(stored.prefix(12))…): add a new migration instead")
                    }
                    continue
                }
                do {
                    try session.runScript(of: migration)
                } catch let failure as StorageFailure {
                    throw PluginLoadError(file: file, "migration \(migration.id) failed: \(failure.message)")
                }
                try session.run("INSERT INTO host_migrations (plugin_id, migration_id, applied_at, checksum) VALUES (?, ?, ?, ?)",
                                [.string(plugin), .string(migration.id), .string(Timestamp.iso8601(Date())), .string(checksum)])
                applied.append(migration.id)
            }
            let tablesAfter = try session.tableNames()
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
