import Foundation
import GRDB

/// Live backups and restores of the SQLite database. A backup is SQLite's online backup taken
/// inside one read transaction of a WAL snapshot, so a server can keep writing while it runs and
/// the copy is the database as of one commit. A restore refuses to replace the database of a
/// running server (`ServerLock`).
public enum DatabaseBackup {
    /// Copies the database at `source` into the new file `destination` (mode 0600).
    public static func copy(from source: String, to destination: String) throws {
        guard FileManager.default.fileExists(atPath: source) else { throw StoreError(message: "no database at \(source)") }
        guard !FileManager.default.fileExists(atPath: destination) else { throw StoreError(message: "\(destination) exists: choose a new file") }
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let live = try DatabasePool(path: source, configuration: configuration)
        try PrivateFile.prepareDatabase(destination)
        let copy = try DatabaseQueue(path: destination)
        try live.backup(to: copy)
        try copy.close()
        try live.close()
    }

    /// Replaces the database at `database` with the backup at `backup`, unless a server holds it.
    public static func restore(from backup: String, to database: String) throws {
        guard FileManager.default.fileExists(atPath: backup) else { throw StoreError(message: "no backup at \(backup)") }
        let lock = try ServerLock(databasePath: database)
        defer { lock.release() }
        var readOnly = Configuration()
        readOnly.readonly = true
        let isStelltron: Bool
        do {
            let check = try DatabaseQueue(path: backup, configuration: readOnly)
            isStelltron = try check.read { db in try db.tableExists("host_migrations") }
            try check.close()
        } catch let error as DatabaseError {
            throw StoreError(message: "\(backup) is not a readable SQLite database: \(error.message ?? "\(error.resultCode)")")
        }
        guard isStelltron else { throw StoreError(message: "\(backup) is not a Stelltron database (no host_migrations table)") }
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: database + suffix) {
            try FileManager.default.removeItem(atPath: database + suffix)
        }
        let folder = URL(fileURLWithPath: database).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try copy(from: backup, to: database)
    }
}

/// Held by `stelltron serve` for as long as it serves a database: an exclusive `flock` on
/// `<database>.serve-lock`, released by the kernel when the process dies, even by SIGKILL.
public final class ServerLock: @unchecked Sendable {
    // Written once in init, then only by `release` (the owner's thread).
    private var descriptor: Int32

    /// Takes the lock, or throws when another process holds it.
    public init(databasePath: String) throws {
        let path = databasePath + ".serve-lock"
        let folder = URL(fileURLWithPath: databasePath).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StoreError(message: "cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw StoreError(message: "a server is running on \(databasePath): stop it first")
        }
    }

    public func release() {
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
