import Foundation

/// Files only the service's own user may read: the database (device and account data) with its
/// `-wal`/`-shm` companions, and the generated JWT secret. They are created with mode 0600 from
/// the first byte, never written world-readable and tightened afterwards.
public enum PrivateFile {
    /// Creates `path` empty with mode 0600 if it does not exist; an existing database file and its
    /// companions are narrowed to 0600 (SQLite creates `-wal` and `-shm` with the main file's mode).
    public static func prepareDatabase(_ path: String) throws {
        let descriptor = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StoreError(message: "cannot create \(path): \(String(cString: strerror(errno)))") }
        close(descriptor)
        for file in [path, path + "-wal", path + "-shm"] where FileManager.default.fileExists(atPath: file) {
            _ = chmod(file, 0o600)
        }
    }

    /// Writes `contents` to a new file `path` (mode 0600); false when it exists or cannot be written.
    public static func create(_ path: String, contents: Data) -> Bool {
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        return contents.withUnsafeBytes { raw in
            write(descriptor, raw.baseAddress, raw.count) == raw.count
        }
    }
}

/// A database file that cannot be prepared, copied or restored.
public struct StoreError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
