import Atomics
import Foundation
import GRDB

/// The host's SQLite database: one writer, concurrent readers on WAL snapshots.
public final class Store: Sendable {
    /// Write through `writeTransaction` or `writeTransactionNow`, never the pool's own writes:
    /// readers keep a snapshot until the store says it wrote (`writeGeneration`).
    public let pool: DatabasePool
    /// Bumped after every write transaction of this store ends: a kept reader snapshot older than
    /// the last bump is stale (`CallingThreadReaders`).
    let writeGeneration = ManagedAtomic<UInt64>(0)
    /// Connections for reads on the calling thread (`readOnCallingThread`).
    let callingThreadReaders: CallingThreadReaders
    /// How long a connection waits for a lock another holds before its statement fails.
    static let busyTimeout: TimeInterval = 5
    /// Set when the store lives in a temporary file that is removed with it.
    private let temporaryDirectory: URL?

    /// Opens (creating folders and file on first run) the database at `path`. `:memory:` gives a
    /// private database in a temporary folder: WAL snapshots need a real file, even for tests.
    public init(path: String) throws {
        _ = SQLiteProcessSettings.applied
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.prepareDatabase { db in
            // WAL is the pool's default; NORMAL is durable across application crashes in WAL mode.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        let file: String
        if path == ":memory:" {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("stelltron-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            temporaryDirectory = directory
            file = directory.appendingPathComponent("stelltron.sqlite").path
        } else {
            temporaryDirectory = nil
            file = path
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        try PrivateFile.prepareDatabase(file)
        pool = try DatabasePool(path: file, configuration: configuration)
        callingThreadReaders = CallingThreadReaders(path: file, busyTimeout: Self.busyTimeout, writeGeneration: writeGeneration)
        try pool.write { db in
            try db.execute(sql: """
                CREATE TABLE IF NOT EXISTS host_migrations (
                    plugin_id TEXT NOT NULL,
                    migration_id TEXT NOT NULL,
                    applied_at TEXT NOT NULL,
                    PRIMARY KEY (plugin_id, migration_id)
                )
                """)
            // Added after the first release: the SQL's SHA-256, so that an edited migration is
            // noticed. Rows from before it get theirs on the next start (Migrations.apply).
            let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info('host_migrations')")
            if !columns.contains("checksum") {
                try db.execute(sql: "ALTER TABLE host_migrations ADD COLUMN checksum TEXT")
            }
        }
        _ = try Migrations.apply(HostSchema.migrations, plugin: "host", file: file, engine: self)
    }

    deinit {
        callingThreadReaders.closeAll()
        if let temporaryDirectory {
            try? pool.close()
            try? FileManager.default.removeItem(at: temporaryDirectory)
        }
    }
}
